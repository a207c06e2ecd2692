// lib/storage/crc32c.h
//
// CRC-32C (Castagnoli), the checksum of segment frames. Uses the SSE4.2
// instruction where the CPU has it, a table otherwise; both give the same
// values (the test vectors of RFC 3720 B.4 are in tests/unit).
#ifndef DURABLESTREAMS_STORAGE_CRC32C_H_
#define DURABLESTREAMS_STORAGE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace durablestreams::storage {

// The CRC-32C of data[0, n), continuing from `crc` (0 to start).
uint32_t Crc32c(uint32_t crc, const void* data, size_t n);

}  // namespace durablestreams::storage

#endif  // DURABLESTREAMS_STORAGE_CRC32C_H_
