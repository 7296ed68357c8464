#include "dualpipe/eplb/torch_sort_order.h"

#include <cstddef>
#include <utility>

namespace dualpipe::eplb {
namespace {

// One sort element: the value and the index it had in the input.
struct Keyed {
  float value;
  int index;
};

// "a goes before b" in a descending sort: a strictly larger value.
bool before(const Keyed& a, const Keyed& b) { return a.value > b.value; }

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
void sift_up(Keyed* heap, std::ptrdiff_t hole, std::ptrdiff_t top, Keyed value) {
  std::ptrdiff_t parent = (hole - 1) / 2;
  while (hole > top && before(heap[parent], value)) {
    heap[hole] = heap[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  heap[hole] = value;
}

// Fills `hole` by walking down to a leaf along the larger child, then sifts `value` up from there.
void adjust_heap(Keyed* heap, std::ptrdiff_t hole, std::ptrdiff_t length, Keyed value) {
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
void heap_sort(Keyed* first, Keyed* last) {
  const std::ptrdiff_t length = last - first;
  if (length < 2) return;
  for (std::ptrdiff_t parent = (length - 2) / 2;; --parent) {
    adjust_heap(first, parent, length, first[parent]);
    if (parent == 0) break;
  }
  while (last - first > 1) {
    --last;
    const Keyed value = *last;
    *last = *first;
    adjust_heap(first, 0, last - first, value);
  }
}

// Puts the median of *a, *b, *c into *result.
void move_median_to_first(Keyed* result, Keyed* a, Keyed* b, Keyed* c) {
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
Keyed* partition_around(Keyed* first, Keyed* last, const Keyed* pivot) {
  while (true) {
    while (before(*first, *pivot)) ++first;
    --last;
    while (before(*pivot, *last)) --last;
    if (!(first < last)) return first;
    std::swap(*first, *last);
    ++first;
  }
}

void introsort_loop(Keyed* first, Keyed* last, int depth_limit) {
  while (last - first > kInsertionThreshold) {
    if (depth_limit == 0) {
      heap_sort(first, last);
      return;
    }
    --depth_limit;
    Keyed* middle = first + (last - first) / 2;
    move_median_to_first(first, first + 1, middle, last - 1);
    Keyed* cut = partition_around(first + 1, last, first);
    introsort_loop(cut, last, depth_limit);
    last = cut;
  }
}

// Inserts *position into the sorted run before it; something before it is known to stop the walk.
void linear_insert(Keyed* position) {
  const Keyed value = *position;
  Keyed* next = position - 1;
  while (before(value, *next)) {
    *position = *next;
    position = next;
    --next;
  }
  *position = value;
}

void insertion_sort(Keyed* first, Keyed* last) {
  if (first == last) return;
  for (Keyed* i = first + 1; i != last; ++i) {
    if (before(*i, *first)) {
      const Keyed value = *i;
      for (Keyed* j = i; j != first; --j) *j = *(j - 1);
      *first = value;
    } else {
      linear_insert(i);
    }
  }
}

void final_insertion_sort(Keyed* first, Keyed* last) {
  if (last - first > kInsertionThreshold) {
    insertion_sort(first, first + kInsertionThreshold);
    for (Keyed* i = first + kInsertionThreshold; i != last; ++i) linear_insert(i);
  } else {
    insertion_sort(first, last);
  }
}

}  // namespace

std::vector<int> torch_descending_order(const std::vector<float>& values) {
  std::vector<Keyed> keyed(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) keyed[i] = {values[i], static_cast<int>(i)};
  if (!keyed.empty()) {
    Keyed* first = keyed.data();
    Keyed* last = first + keyed.size();
    introsort_loop(first, last, 2 * floor_log2(last - first));
    final_insertion_sort(first, last);
  }
  std::vector<int> order(values.size());
  for (std::size_t i = 0; i < keyed.size(); ++i) order[i] = keyed[i].index;
  return order;
}

}  // namespace dualpipe::eplb
