// Which way of reading a memory-mapped input is faster on this machine: through the map, or
// copied out of the page cache with pread. It depends on the machine, not on the merge: under
// a hypervisor that fills shadow page tables on the first touch of each mapped page, that
// touch costs about 1.7 us and a copy far less; under others the map saves the copy
// (docs/performance.md, "Reading the inputs"). So `weld merge --read auto` measures both on
// a few pieces of an input before it starts.
#pragma once

#include <cstddef>
#include <optional>

#include "io/mapped_file.h"

namespace weld {

struct ReadProbe {
  double mapped_seconds = 0;  // reading the pieces through the map, touching its pages first
  double copied_seconds = 0;  // copying the same pieces with pread, as the workers do
  // For a merge that reads each input `reads` times: a mapped page is touched for the first
  // time once, a copy is made on every read.
  bool mapped_is_faster(double reads = 1.0) const { return mapped_seconds < copied_seconds * reads; }
};

// Reads kProbePieces pieces of kProbePieceBytes spread over bytes [offset, offset + length)
// of `file` both ways (after one copy of each, so that both find them in the page cache),
// and times each. Nothing, where the range holds fewer bytes than the pieces. Throws
// weld::Error naming the file if a copy fails.
inline constexpr std::size_t kProbePieces = 4;
inline constexpr std::size_t kProbePieceBytes = std::size_t{1} << 20;
std::optional<ReadProbe> probe_reads(const MappedFile& file, std::size_t offset, std::size_t length);

}  // namespace weld
