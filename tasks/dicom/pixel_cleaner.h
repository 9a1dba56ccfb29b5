// Blanks burned-in text: sets every sample inside the given rectangles to
// zero in every frame. Compressed Pixel Data (RLE, JPEG, JPEG-LS) is
// decoded first and the instance is then written uncompressed in Explicit
// VR Little Endian: re-encoding lossy JPEG would lose more, and the
// original compressed frames, which still hold the text, are dropped.
//
// Owns: decoding and blanking Pixel Data in memory. Does not own: which
// rectangles (pixel_rules.h) or when a rule must apply (Deidentifier).
#pragma once

#include <vector>

#include "common/error.h"
#include "tasks/dicom/pixel_rules.h"

class DcmDataset;

namespace helix::dicom {

// The attributes pixel rules are matched on.
ImageFacts image_facts(DcmDataset& dataset);

// Corruption naming the reason when the pixels cannot be blanked (a
// transfer syntax without a decoder here, such as JPEG 2000; sub-byte
// samples; Pixel Data shorter than its frames). Regions are clipped to the
// image. Returns the number of frames blanked.
Result<int> blank_regions(DcmDataset& dataset, const std::vector<PixelRegion>& regions);

}  // namespace helix::dicom
