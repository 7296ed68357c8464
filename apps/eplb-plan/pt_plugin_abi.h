// The C interface of the LibTorch plugin (libdualpipe_eplb_pt.so) that reads SGLang's
// expert-distribution .pt dumps for eplb-plan, which loads it with dlopen only for .pt inputs and
// never links LibTorch itself.
#pragma once

#include <stddef.h>
#include <stdint.h>

#define DUALPIPE_PT_PLUGIN_ABI_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

// The DUALPIPE_PT_PLUGIN_ABI_VERSION the plugin was built with.
int dualpipe_pt_plugin_abi_version(void);

// Reads the "logical_count" tensor of the torch.save file held in bytes[0, size). On success
// returns 0, sets shape = {steps, layers, experts} (a 2-D tensor is one step) and *values to a
// row-major float64 array of that shape, to be released with dualpipe_free_pt_loads. On failure
// returns 1 and writes a one-line, NUL-terminated message (truncated to error_size bytes) into
// error.
int dualpipe_read_pt_loads(const char* bytes, size_t size, int64_t shape[3], double** values,
                           char* error, size_t error_size);

// Releases an array returned by dualpipe_read_pt_loads.
void dualpipe_free_pt_loads(double* values);

#ifdef __cplusplus
}
#endif
