// regions_json: the regions file the calling Map fans out over. Pure.
//
// The bytes match what the genomics-split-regions awk job writes, so the
// pipeline reads either unchanged: one line, no spaces, a newline at the end:
//   [{"region":"chr1:1-20000","index":0},{"region":"chr2:1-20000","index":1}]
// index counts from 0 in output order; coordinates are 1-based inclusive
// (samtools/bcftools -r syntax). Contig names are JSON-escaped (the awk job
// did not escape them; names with quotes never worked there).
#pragma once

#include <string>
#include <vector>

#include "tasks/genomics/region_plan.h"

namespace helix::genomics {

std::string regions_json(const std::vector<Region>& regions);

}  // namespace helix::genomics
