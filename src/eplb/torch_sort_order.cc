#include "dualpipe/eplb/torch_sort_order.h"

#include <cstddef>
#include <utility>

namespace dualpipe::eplb {
namespace {

// "a goes before b" in a descending sort: a strictly larger value.
bool before(const IndexedValue& a, const IndexedValue& b) { return a.value > b.value; }

constexpr std::ptrdiff_t kInsertionThreshold = 16;

int floor_log2(std::ptrdiff_t n) {
  int log = 0;
  while (n > 1) {
    n >>= 1;
    ++log;
  }
  return log;
}

// Moves `value` up from `hole` towards `top` while its parent goes after it.
void sift_up(IndexedValue* heap, std::ptrdiff_t hole, std::ptrdiff_t top, IndexedValue value) {
  std::ptrdiff_t parent = (hole - 1) / 2;
  while (hole > top && before(heap[parent], value)) {
    heap[hole] = heap[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  heap[hole] = value;
}

// Fills `hole` by walking down to a leaf along the larger child, then sifts `value` up from there.
void adjust_heap(IndexedValue* heap, std::ptrdiff_t hole, std::ptrdiff_t length,
                 IndexedValue value) {
  const std::ptrdiff_t top = hole;
  std::ptrdiff_t child = hole;
  while (child < (length - 1) / 2) {
    child = 2 * (child + 1);
    if (before(heap[child], heap[child - 1])) --child;
    heap[hole] = heap[child];
    hole = child;
  }
  if ((length & 1) == 0 && child == (length - 2) / 2) {
    child = 2 * (child + 1);
    heap[hole] = heap[child - 1];
    hole = child - 1;
  }
  sift_up(heap, hole, top, value);
}

// Heapsort of [first, last): the fallback once quicksort recursion gets too deep.
void heap_sort(IndexedValue* first, IndexedValue* last) {
  const std::ptrdiff_t length = last - first;
  if (length < 2) return;
  for (std::ptrdiff_t parent = (length - 2) / 2;; --parent) {
    adjust_heap(first, parent, length, first[parent]);
    if (parent == 0) break;
  }
  while (last - first > 1) {
    --last;
    const IndexedValue value = *last;
    *last = *first;
    adjust_heap(first, 0, last - first, value);
  }
}

// Puts the median of *a, *b, *c into *result.
void move_median_to_first(IndexedValue* result, IndexedValue* a, IndexedValue* b, IndexedValue* c) {
  if (before(*a, *b)) {
    if (before(*b, *c)) {
      std::swap(*result, *b);
    } else if (before(*a, *c)) {
      std::swap(*result, *c);
    } else {
      std::swap(*result, *a);
    }
  } else if (before(*a, *c)) {
    std::swap(*result, *a);
  } else if (before(*b, *c)) {
    std::swap(*result, *c);
  } else {
    std::swap(*result, *b);
  }
}

// Hoare partition of [first, last) around *pivot, without bounds checks (the pivot is a sentinel).
IndexedValue* partition_around(IndexedValue* first, IndexedValue* last, const IndexedValue* pivot) {
  while (true) {
    while (before(*first, *pivot)) ++first;
    --last;
    while (before(*pivot, *last)) --last;
    if (!(first < last)) return first;
    std::swap(*first, *last);
    ++first;
  }
}

void introsort_loop(IndexedValue* first, IndexedValue* last, int depth_limit) {
  while (last - first > kInsertionThreshold) {
    if (depth_limit == 0) {
      heap_sort(first, last);
      return;
    }
    --depth_limit;
    IndexedValue* middle = first + (last - first) / 2;
    move_median_to_first(first, first + 1, middle, last - 1);
    IndexedValue* cut = partition_around(first + 1, last, first);
    introsort_loop(cut, last, depth_limit);
    last = cut;
  }
}

// Inserts *position into the sorted run before it; something before it is known to stop the walk.
void linear_insert(IndexedValue* position) {
  const IndexedValue value = *position;
  IndexedValue* next = position - 1;
  while (before(value, *next)) {
    *position = *next;
    position = next;
    --next;
  }
  *position = value;
}

void insertion_sort(IndexedValue* first, IndexedValue* last) {
  if (first == last) return;
  for (IndexedValue* i = first + 1; i != last; ++i) {
    if (before(*i, *first)) {
      const IndexedValue value = *i;
      for (IndexedValue* j = i; j != first; --j) *j = *(j - 1);
      *first = value;
    } else {
      linear_insert(i);
    }
  }
}

void final_insertion_sort(IndexedValue* first, IndexedValue* last) {
  if (last - first > kInsertionThreshold) {
    insertion_sort(first, first + kInsertionThreshold);
    for (IndexedValue* i = first + kInsertionThreshold; i != last; ++i) linear_insert(i);
  } else {
    insertion_sort(first, last);
  }
}

}  // namespace

void sort_like_torch_descending(IndexedValue* items, std::size_t count) {
  if (count == 0) return;
  IndexedValue* last = items + count;
  introsort_loop(items, last, 2 * floor_log2(last - items));
  final_insertion_sort(items, last);
}

std::vector<int> torch_descending_order(const std::vector<float>& values) {
  std::vector<IndexedValue> keyed(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) keyed[i] = {values[i], static_cast<int>(i)};
  sort_like_torch_descending(keyed.data(), keyed.size());
  std::vector<int> order(values.size());
  for (std::size_t i = 0; i < keyed.size(); ++i) order[i] = keyed[i].index;
  return order;
}

}  // namespace dualpipe::eplb
