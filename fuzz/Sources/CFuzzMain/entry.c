// SwiftPM links an executable target on Linux with `--defsym main=<module>_main`, so libFuzzer's
// own `main` is never pulled in. This is that `<module>_main`: it hands over to libFuzzer's
// driver with the Swift callback (Entry.swift, exported with @_cdecl).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

int stelling_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
