/* Wine 8 has no bcryptprimitives.dll, whose ProcessPrng Rust's std (1.78+) uses for random
 * numbers on Windows. This shim, placed beside a test .exe under Wine only (never shipped),
 * forwards it to advapi32's RtlGenRandom (SystemFunction036), which Wine implements. */
#include <windows.h>

__declspec(dllimport) BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
