// TIFF copies of de-identified pixels, for tools that cannot read DICOM.
// The TIFF holds the values the modality meant, not a rendering:
//
// - Grayscale (MONOCHROME1, MONOCHROME2; 8 or 16 bits allocated): the
//   Modality LUT or Rescale Slope/Intercept is applied as DCMTK's
//   DicomImage applies it (so CT holds Hounsfield units; XA and XRF keep
//   stored values, their Modality LUT runs the other way). The VOI window
//   is not applied: windowing throws values away. The sample format comes
//   from the attributes, not the values, so every image of a series gets
//   the same one: signed (SAMPLEFORMAT_INT) when the possible modality
//   values (Bits Stored, Pixel Representation, then the transform) go below
//   zero, else unsigned; 8 bits when 8 are allocated and the possible
//   values fit 8 bits, else 16. Values outside 16 bits, a slope or
//   intercept that is not a whole number (the TIFF holds integers, so they
//   would be rounded), a slope of 0 and a per-frame Pixel Value
//   Transformation are refused. MONOCHROME1 is written as MINISWHITE with
//   its values unchanged, so viewers show it as the modality meant;
//   MONOCHROME2 as MINISBLACK.
// - Colour (RGB, YBR_FULL, YBR_FULL_422; 8 bits allocated): RGB, 8 bits a
//   sample, interleaved whatever the Planar Configuration; YBR is
//   converted to RGB by DCMTK.
// - One TIFF page per frame, each with its Page Number (page, pages).
// - Compressed Pixel Data is decoded (RLE, JPEG, JPEG-LS) frame by frame;
//   the data set's Pixel Data is not changed.
// - Only the layout tags are written: no date, software, description or
//   resolution, and the same data set gives the same bytes.
//
// Owns: rendering modality values and writing the TIFF. Does not own: what
// was removed from the pixels (pixel_cleaner.h) or where the file goes.
#pragma once

#include <string>

#include "common/error.h"

class DcmDataset;

namespace helix::dicom {

// Writes every frame of dataset to path (via path + ".tmp" and rename; the
// directory must exist) and returns the number of pages. Nothing is left
// at path or path + ".tmp" on failure: InvalidInput naming the attribute
// and its value for an image this export does not take (PALETTE COLOR,
// more than 16 bits, Float Pixel Data, ...), Corruption when the pixels
// cannot be decoded, Unavailable when the file cannot be written.
Result<int> write_tiff(DcmDataset& dataset, const std::string& path);

}  // namespace helix::dicom
