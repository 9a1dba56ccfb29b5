#include "tasks/dicom/tiff_export.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmimage/diregist.h>  // lets DicomImage open colour images
#include <dcmtk/dcmimgle/dcmimage.h>
#include <tiffio.h>

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "tasks/dicom/dicom_codecs.h"
#include "tasks/dicom/dicom_values.h"

namespace helix::dicom {

namespace {

// "PhotometricInterpretation (0028,0004)": the attribute a refusal names.
std::string name_of(const DcmTagKey& key) {
  return std::string(DcmTag(key).getTagName()) + " " + tag_text(key);
}

tl::unexpected<Error> refuse(const DcmTagKey& key, const std::string& problem) {
  return fail(Error::invalid(name_of(key), problem));
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// The TIFF holds integers: a fractional slope or intercept would be rounded.
// DCMTK ignores a slope of 0 and either value without the other, which
// would leave stored values where modality values are expected.
Result<void> check_rescale(DcmItem& item, const std::string& where) {
  const bool slope = item.tagExistsWithValue(DCM_RescaleSlope);
  const bool intercept = item.tagExistsWithValue(DCM_RescaleIntercept);
  if (slope != intercept) {
    return refuse(slope ? DCM_RescaleSlope : DCM_RescaleIntercept,
                  "is given" + where + " without " +
                      name_of(slope ? DCM_RescaleIntercept : DCM_RescaleSlope) +
                      ": DCMTK would not rescale");
  }
  for (const DcmTagKey& key : {DCM_RescaleSlope, DCM_RescaleIntercept}) {
    if (!slope) break;
    const std::string shown = "\"" + all_values(item, key) + "\"" + where;
    Float64 value = 0;
    if (item.findAndGetFloat64(key, value).bad() || !std::isfinite(value)) {
      return refuse(key, shown + " is not a number");
    }
    if (key == DCM_RescaleSlope && value == 0) {
      return refuse(key, shown + " is 0: DCMTK would not rescale");
    }
    if (value != std::floor(value)) {
      return refuse(key, shown +
                             " is not a whole number: the TIFF holds integers and modality "
                             "values would be rounded");
    }
  }
  return {};
}

// DCMTK applies a Pixel Value Transformation on the main level or in the
// shared functional groups; one per frame would be ignored, so it is refused.
Result<void> check_modality(DcmDataset& dataset) {
  auto checked = check_rescale(dataset, "");
  if (!checked) return checked;
  DcmItem* shared = nullptr;
  DcmItem* transform = nullptr;
  if (dataset.findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0).good() &&
      shared->findAndGetSequenceItem(DCM_PixelValueTransformationSequence, transform, 0).good()) {
    checked = check_rescale(*transform, " (SharedFunctionalGroupsSequence)");
    if (!checked) return checked;
  }
  DcmSequenceOfItems* frames = nullptr;
  if (dataset.findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, frames).good()) {
    for (unsigned long index = 0; index < frames->card(); ++index) {
      DcmItem* frame = frames->getItem(index);
      if (frame != nullptr &&
          frame->findAndGetSequenceItem(DCM_PixelValueTransformationSequence, transform, 0)
              .good()) {
        return refuse(DCM_PixelValueTransformationSequence,
                      "is given per frame (PerFrameFunctionalGroupsSequence item " +
                          std::to_string(index + 1) + "): a rescale per frame is not exported");
      }
    }
  }
  return {};
}

struct Layout {
  bool colour = false;
  bool white_is_zero = false;  // MONOCHROME1
  Uint16 bits_allocated = 0;
};

Result<Layout> check_attributes(DcmDataset& dataset) {
  for (const DcmTagKey& key : {DCM_FloatPixelData, DCM_DoubleFloatPixelData}) {
    if (dataset.tagExists(key)) {
      return refuse(key, "is present: floating-point pixels are not exported");
    }
  }
  if (!dataset.tagExists(DCM_PixelData)) return refuse(DCM_PixelData, "is absent");
  Layout layout;
  Uint16 samples = 0;
  if (dataset.findAndGetUint16(DCM_SamplesPerPixel, samples).bad() ||
      (samples != 1 && samples != 3)) {
    return refuse(DCM_SamplesPerPixel,
                  "\"" + all_values(dataset, DCM_SamplesPerPixel) +
                      "\" is not exported: only 1 (grayscale) or 3 (colour) are exported");
  }
  const std::string photometric = all_values(dataset, DCM_PhotometricInterpretation);
  if (samples == 1 && (photometric == "MONOCHROME1" || photometric == "MONOCHROME2")) {
    layout.white_is_zero = photometric == "MONOCHROME1";
  } else if (samples == 3 &&
             (photometric == "RGB" || photometric == "YBR_FULL" || photometric == "YBR_FULL_422")) {
    layout.colour = true;
  } else {
    return refuse(DCM_PhotometricInterpretation,
                  "\"" + photometric + "\" with " + std::to_string(samples) +
                      " samples per pixel is not exported: only MONOCHROME1 and MONOCHROME2 (1 "
                      "sample) or RGB, "
                      "YBR_FULL and YBR_FULL_422 (3 samples) are exported");
  }
  dataset.findAndGetUint16(DCM_BitsAllocated, layout.bits_allocated);
  if (layout.colour && layout.bits_allocated != 8) {
    return refuse(DCM_BitsAllocated,
                  std::to_string(layout.bits_allocated) +
                      " with colour is not exported: colour is exported 8 bits a sample only");
  }
  if (layout.bits_allocated != 8 && layout.bits_allocated != 16) {
    return refuse(DCM_BitsAllocated, std::to_string(layout.bits_allocated) +
                                         " is not exported: grayscale from 8 or 16 bits only");
  }
  if (!layout.colour) {
    auto modality = check_modality(dataset);
    if (!modality) return fail(modality.error());
  }
  return layout;
}

// The current transfer syntax as the Pixel Data holds it (a data set built
// in memory may not know its own).
E_TransferSyntax pixel_xfer(DcmDataset& dataset) {
  DcmElement* element = nullptr;
  auto* pixels = dataset.findAndGetElement(DCM_PixelData, element).good()
                     ? dynamic_cast<DcmPixelData*>(element)
                     : nullptr;
  if (pixels == nullptr) return dataset.getCurrentXfer();
  E_TransferSyntax xfer = EXS_Unknown;
  const DcmRepresentationParameter* parameter = nullptr;
  pixels->getCurrentRepresentationKey(xfer, parameter);
  return DcmXfer(xfer).isEncapsulated() ? xfer : EXS_LittleEndianExplicit;
}

// How a page's samples are written (always interleaved, uncompressed).
struct Page {
  Uint16 bits = 8;
  Uint16 samples = 1;
  Uint16 sample_format = SAMPLEFORMAT_UINT;
  Uint16 photometric = PHOTOMETRIC_MINISBLACK;
};

// Calls f with the modality values of every frame, typed as DCMTK holds them.
template <class F>
Result<void> with_values(const DiPixel& pixel, F&& f) {
  const void* data = pixel.getData();
  switch (pixel.getRepresentation()) {
    case EPR_Uint8:
      return f(static_cast<const Uint8*>(data));
    case EPR_Sint8:
      return f(static_cast<const Sint8*>(data));
    case EPR_Uint16:
      return f(static_cast<const Uint16*>(data));
    case EPR_Sint16:
      return f(static_cast<const Sint16*>(data));
    case EPR_Uint32:
      return f(static_cast<const Uint32*>(data));
    case EPR_Sint32:
      return f(static_cast<const Sint32*>(data));
  }
  return fail(Error::internal("DCMTK returned an unknown pixel representation"));
}

bool fits(double low, double high, Uint16 bits, bool is_signed) {
  const double span = std::ldexp(1.0, bits);
  return is_signed ? low >= -span / 2 && high <= span / 2 - 1 : low >= 0 && high <= span - 1;
}

// Keeps libtiff's first error for the Result; by default libtiff would
// print it to stderr, and the core never logs.
int on_tiff_error(TIFF*, void* user, const char* module, const char* format, va_list args) {
  auto& text = *static_cast<std::string*>(user);
  if (text.empty()) {
    char message[512];
    std::vsnprintf(message, sizeof message, format, args);
    text = std::string(module != nullptr ? module : "libtiff") + ": " + message;
  }
  return 1;
}

// Warnings are libtiff's notes on the file it writes: not for the caller.
int on_tiff_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

class TiffFile {
 public:
  TiffFile(const std::string& path, bool big) {
    TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(options, on_tiff_error, &errors_);
    TIFFOpenOptionsSetWarningHandlerExtR(options, on_tiff_warning, nullptr);
    // Little-endian whatever the host, so the bytes do not depend on it.
    tiff_ = TIFFOpenExt(path.c_str(), big ? "w8l" : "wl", options);
    TIFFOpenOptionsFree(options);
    if (tiff_ == nullptr && errors_.empty()) errors_ = "cannot open";
  }
  ~TiffFile() { close(); }
  TiffFile(const TiffFile&) = delete;
  TiffFile& operator=(const TiffFile&) = delete;

  // row(r) points at row r of the page in the page's layout.
  template <class Row>
  bool write_page(const Page& page, Uint32 width, Uint32 height, int number, int pages, Row&& row) {
    if (tiff_ == nullptr) return false;
    if (pages > 1) TIFFSetField(tiff_, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(tiff_, TIFFTAG_IMAGEWIDTH, width);
    TIFFSetField(tiff_, TIFFTAG_IMAGELENGTH, height);
    TIFFSetField(tiff_, TIFFTAG_BITSPERSAMPLE, page.bits);
    TIFFSetField(tiff_, TIFFTAG_SAMPLESPERPIXEL, page.samples);
    TIFFSetField(tiff_, TIFFTAG_SAMPLEFORMAT, page.sample_format);
    TIFFSetField(tiff_, TIFFTAG_PHOTOMETRIC, page.photometric);
    TIFFSetField(tiff_, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tiff_, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    TIFFSetField(tiff_, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
    TIFFSetField(tiff_, TIFFTAG_PAGENUMBER, static_cast<Uint16>(number),
                 static_cast<Uint16>(pages));
    TIFFSetField(tiff_, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tiff_, 0));
    // libtiff may change the buffer it is given, so each row is copied.
    const std::size_t row_bytes = std::size_t{width} * page.samples * (page.bits / 8);
    std::vector<unsigned char> scratch(row_bytes);
    for (Uint32 r = 0; r < height; ++r) {
      std::memcpy(scratch.data(), row(r), row_bytes);
      if (TIFFWriteScanline(tiff_, scratch.data(), r, 0) < 0) return false;
    }
    return TIFFWriteDirectory(tiff_) != 0;
  }

  // The error text; empty when everything was written.
  std::string close() {
    if (tiff_ != nullptr) TIFFClose(tiff_);
    tiff_ = nullptr;
    return errors_;
  }

 private:
  TIFF* tiff_ = nullptr;
  std::string errors_;
};

template <class Out, class In>
std::vector<Out> narrowed(const In* values, std::size_t count) {
  std::vector<Out> out(count);
  for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<Out>(values[i]);
  return out;
}

Result<int> write_grayscale(DicomImage& image, const Layout& layout, TiffFile& tiff) {
  const DiPixel* pixel = image.getInterData();
  const Uint32 width = image.getWidth(), height = image.getHeight();
  const int pages = static_cast<int>(image.getFrameCount());
  const std::size_t frame_size = std::size_t{width} * height;
  if (pixel == nullptr || pixel->getCount() < frame_size * pages) {
    return fail(Error::corruption("DCMTK returned fewer modality values than the frames hold"));
  }
  // The possible values decide the format, so a series gets one format.
  double low = 0, high = 0;
  image.getMinMaxValues(low, high, 1);
  Page page;
  const bool is_signed = low < 0;
  page.bits = layout.bits_allocated == 8 && fits(low, high, 8, is_signed) ? 8 : 16;
  page.sample_format = is_signed ? SAMPLEFORMAT_INT : SAMPLEFORMAT_UINT;
  page.photometric = layout.white_is_zero ? PHOTOMETRIC_MINISWHITE : PHOTOMETRIC_MINISBLACK;
  int written = 0;
  auto done = with_values(*pixel, [&](const auto* values) -> Result<void> {
    const std::size_t count = frame_size * pages;
    double least = 0, most = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const double value = static_cast<double>(values[i]);
      if (i == 0 || value < least) least = value;
      if (i == 0 || value > most) most = value;
    }
    if (!fits(least, most, page.bits, is_signed)) {
      return refuse(DCM_PixelData, "holds modality values from " + number_text(least) + " to " +
                                       number_text(most) + ", beyond " + std::to_string(page.bits) +
                                       "-bit " + (is_signed ? "signed" : "unsigned") + " samples");
    }
    for (int frame = 0; frame < pages; ++frame) {
      const auto* first = values + frame_size * frame;
      bool ok = false;
      auto write = [&](const auto& samples) {
        ok = tiff.write_page(page, width, height, frame, pages,
                             [&](Uint32 r) { return samples.data() + std::size_t{r} * width; });
      };
      if (page.bits == 8 && is_signed) write(narrowed<std::int8_t>(first, frame_size));
      if (page.bits == 8 && !is_signed) write(narrowed<std::uint8_t>(first, frame_size));
      if (page.bits == 16 && is_signed) write(narrowed<std::int16_t>(first, frame_size));
      if (page.bits == 16 && !is_signed) write(narrowed<std::uint16_t>(first, frame_size));
      if (!ok) return fail(Error::unavailable("cannot write TIFF page " + std::to_string(frame)));
      ++written;
    }
    return {};
  });
  if (!done) return fail(done.error());
  return written;
}

Result<int> write_colour(DicomImage& image, TiffFile& tiff) {
  const Uint32 width = image.getWidth(), height = image.getHeight();
  const int pages = static_cast<int>(image.getFrameCount());
  Page page;
  page.samples = 3;
  page.photometric = PHOTOMETRIC_RGB;
  for (int frame = 0; frame < pages; ++frame) {
    // 8 bits from 8 stored is a copy; planar 0 interleaves the samples.
    const auto* rgb = static_cast<const unsigned char*>(image.getOutputData(8, frame, 0));
    if (rgb == nullptr) {
      return fail(
          Error::corruption("DCMTK cannot render frame " + std::to_string(frame) + " as RGB"));
    }
    const bool ok = tiff.write_page(page, width, height, frame, pages,
                                    [&](Uint32 r) { return rgb + std::size_t{r} * width * 3; });
    if (!ok) return fail(Error::unavailable("cannot write TIFF page " + std::to_string(frame)));
  }
  return pages;
}

}  // namespace

Result<int> write_tiff(DcmDataset& dataset, const std::string& path) {
  auto layout = check_attributes(dataset);
  if (!layout) return fail(layout.error());
  auto decodable = check_decodable(dataset);
  if (!decodable) return fail(decodable.error());
  register_pixel_decoders();
  // Partial access decodes frame by frame into DicomImage's own memory and
  // leaves the data set's Pixel Data as it is.
  DicomImage image(&dataset, pixel_xfer(dataset), CIF_UsePartialAccessToPixelData, 0, 0);
  if (image.getStatus() != EIS_Normal) {
    return fail(Error::corruption(std::string("cannot decode the pixels: ") +
                                  DicomImage::getString(image.getStatus())));
  }
  const unsigned long frames = image.getFrameCount();
  if (frames == 0 || frames > 65535) {
    return refuse(DCM_NumberOfFrames,
                  "is " + std::to_string(frames) + ": a TIFF page number holds 1 to 65535 pages");
  }
  const double bytes = static_cast<double>(image.getWidth()) * image.getHeight() * frames *
                       (layout->colour ? 3 : 1) * (layout->bits_allocated / 8);
  const std::string temporary = path + ".tmp";
  TiffFile tiff(temporary, bytes > 0xF0000000u);  // classic TIFF addresses 4 GiB
  auto written = layout->colour ? write_colour(image, tiff) : write_grayscale(image, *layout, tiff);
  const std::string errors = tiff.close();
  if (!written || !errors.empty()) {
    std::remove(temporary.c_str());
    if (!written && written.error().code() != ErrorCode::kUnavailable) return written;
    return fail(Error::unavailable("cannot write " + temporary, errors));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return fail(Error::unavailable("cannot rename into " + path));
  }
  return written;
}

}  // namespace helix::dicom
