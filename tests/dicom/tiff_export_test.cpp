// TIFF export: modality values exact (read back with libtiff), photometric
// interpretation as stated, one page per frame, refusals that leave no
// file, the same bytes twice, compressed input decoded.
#include "tasks/dicom/tiff_export.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>
#include <tiffio.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace helix::dicom {
namespace {

namespace fs = std::filesystem;

constexpr Uint16 kRows = 4, kColumns = 5;
constexpr std::size_t kPixels = std::size_t{kRows} * kColumns;

// One TIFF page as libtiff reads it back.
struct Page {
  uint32_t width = 0, height = 0;
  uint16_t bits = 0, samples = 0, format = 0, photometric = 0, planar = 0;
  uint16_t number = 0, pages = 0;
  std::vector<unsigned char> bytes;  // rows one after the other

  template <class T>
  std::vector<T> values() const {
    std::vector<T> out(bytes.size() / sizeof(T));
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
    return out;
  }
};

std::vector<Page> read_tiff(const std::string& path) {
  std::vector<Page> pages;
  TIFF* tiff = TIFFOpen(path.c_str(), "r");
  if (tiff == nullptr) return pages;
  do {
    Page page;
    TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &page.width);
    TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &page.height);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_BITSPERSAMPLE, &page.bits);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLESPERPIXEL, &page.samples);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLEFORMAT, &page.format);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_PLANARCONFIG, &page.planar);
    TIFFGetField(tiff, TIFFTAG_PHOTOMETRIC, &page.photometric);
    TIFFGetField(tiff, TIFFTAG_PAGENUMBER, &page.number, &page.pages);
    const tmsize_t line = TIFFScanlineSize(tiff);
    page.bytes.resize(static_cast<std::size_t>(line) * page.height);
    for (uint32_t row = 0; row < page.height; ++row)
      TIFFReadScanline(tiff, page.bytes.data() + row * line, row, 0);
    pages.push_back(std::move(page));
  } while (TIFFReadDirectory(tiff));
  TIFFClose(tiff);
  return pages;
}

// A grayscale image; values are the stored values, frame after frame.
template <class T>
void grayscale(DcmDataset& ds, const char* photometric, Uint16 stored, bool is_signed,
               const std::vector<T>& values, int frames = 1, Uint16 rows = kRows,
               Uint16 columns = kColumns) {
  ds.putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
  ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.99.9.1");
  ds.putAndInsertUint16(DCM_Rows, rows);
  ds.putAndInsertUint16(DCM_Columns, columns);
  ds.putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds.putAndInsertString(DCM_PhotometricInterpretation, photometric);
  ds.putAndInsertUint16(DCM_BitsAllocated, sizeof(T) * 8);
  ds.putAndInsertUint16(DCM_BitsStored, stored);
  ds.putAndInsertUint16(DCM_HighBit, stored - 1);
  ds.putAndInsertUint16(DCM_PixelRepresentation, is_signed ? 1 : 0);
  if (frames > 1) ds.putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
  if constexpr (sizeof(T) == 1) {
    ds.putAndInsertUint8Array(DCM_PixelData, reinterpret_cast<const Uint8*>(values.data()),
                              values.size());
  } else {
    ds.putAndInsertUint16Array(DCM_PixelData, reinterpret_cast<const Uint16*>(values.data()),
                               values.size());
  }
}

// An 8-bit, 3-sample image of kRows x kColumns; `bytes` in the given
// planar configuration.
void colour(DcmDataset& ds, const char* uid, const char* photometric, Uint16 planar,
            const std::vector<Uint8>& bytes) {
  ds.putAndInsertString(DCM_SOPInstanceUID, uid);
  ds.putAndInsertUint16(DCM_Rows, kRows);
  ds.putAndInsertUint16(DCM_Columns, kColumns);
  ds.putAndInsertUint16(DCM_SamplesPerPixel, 3);
  ds.putAndInsertString(DCM_PhotometricInterpretation, photometric);
  ds.putAndInsertUint16(DCM_PlanarConfiguration, planar);
  ds.putAndInsertUint16(DCM_BitsAllocated, 8);
  ds.putAndInsertUint16(DCM_BitsStored, 8);
  ds.putAndInsertUint16(DCM_HighBit, 7);
  ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds.putAndInsertUint8Array(DCM_PixelData, bytes.data(), bytes.size());
}

class TiffExport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("helix-tiff-export-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(TiffExport, CtRescaleGivesExactHounsfieldUnitsAsSigned16Bit) {
  // Signed stored values, including padding far below air.
  std::vector<Sint16> stored(kPixels);
  for (std::size_t i = 0; i < kPixels; ++i) stored[i] = static_cast<Sint16>(-2000 + 311 * i);
  DcmDataset ds;
  grayscale(ds, "MONOCHROME2", 16, true, stored);
  ds.putAndInsertString(DCM_RescaleSlope, "1");
  ds.putAndInsertString(DCM_RescaleIntercept, "-1024");
  auto pages = write_tiff(ds, path("ct.tif"));
  ASSERT_TRUE(pages) << pages.error().to_string();
  EXPECT_EQ(*pages, 1);
  const auto read = read_tiff(path("ct.tif"));
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].width, kColumns);
  EXPECT_EQ(read[0].height, kRows);
  EXPECT_EQ(read[0].bits, 16);
  EXPECT_EQ(read[0].samples, 1);
  EXPECT_EQ(read[0].format, SAMPLEFORMAT_INT);
  EXPECT_EQ(read[0].photometric, PHOTOMETRIC_MINISBLACK);
  const auto hu = read[0].values<int16_t>();
  ASSERT_EQ(hu.size(), kPixels);
  for (std::size_t i = 0; i < kPixels; ++i) EXPECT_EQ(hu[i], stored[i] - 1024) << i;
}

TEST_F(TiffExport, UnsignedTwelveBitCtWithSlopeTwoIsSignedAndExact) {
  // 12 of 16 bits stored, unsigned; the bits above are not part of the value.
  std::vector<Uint16> stored(kPixels);
  for (std::size_t i = 0; i < kPixels; ++i) stored[i] = static_cast<Uint16>(200 * i % 4096);
  stored[3] |= 0xF000;  // overlay bits above High Bit
  DcmDataset ds;
  grayscale(ds, "MONOCHROME2", 12, false, stored);
  ds.putAndInsertString(DCM_RescaleSlope, "2.0");
  ds.putAndInsertString(DCM_RescaleIntercept, "-1024.");
  ASSERT_TRUE(write_tiff(ds, path("ct12.tif")));
  const auto read = read_tiff(path("ct12.tif"));
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].format, SAMPLEFORMAT_INT);  // the possible values start at -1024
  const auto values = read[0].values<int16_t>();
  for (std::size_t i = 0; i < kPixels; ++i) EXPECT_EQ(values[i], (stored[i] & 0x0FFF) * 2 - 1024);
}

TEST_F(TiffExport, LargeImagesStayExactThroughDcmtksLookupTable) {
  // DCMTK rescales through a table once an image has more pixels than
  // three times its possible stored values (here 4096): the other path.
  constexpr Uint16 kSide = 128;
  std::vector<Uint16> stored(kSide * kSide);
  std::vector<int> expected(stored.size());
  for (std::size_t i = 0; i < stored.size(); ++i) {
    const int value = static_cast<int>(i % 4096) - 2048;  // 12-bit two's complement
    stored[i] = static_cast<Uint16>(value & 0x0FFF);      // no sign bits above High Bit
    expected[i] = value * 3 - 1024;
  }
  DcmDataset ds;
  grayscale(ds, "MONOCHROME2", 12, true, stored, 1, kSide, kSide);
  ds.putAndInsertString(DCM_RescaleSlope, "3");
  ds.putAndInsertString(DCM_RescaleIntercept, "-1024");
  ASSERT_TRUE(write_tiff(ds, path("large.tif")));
  const auto read = read_tiff(path("large.tif"));
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].format, SAMPLEFORMAT_INT);
  const auto values = read[0].values<int16_t>();
  ASSERT_EQ(values.size(), expected.size());
  for (std::size_t i = 0; i < values.size(); ++i) ASSERT_EQ(values[i], expected[i]) << i;
}

TEST_F(TiffExport, UnrescaledUnsignedSixteenBitStaysUnsigned) {
  std::vector<Uint16> stored(kPixels);
  for (std::size_t i = 0; i < kPixels; ++i) stored[i] = static_cast<Uint16>(65535 - 3000 * i);
  DcmDataset ds;
  grayscale(ds, "MONOCHROME2", 16, false, stored);
  ASSERT_TRUE(write_tiff(ds, path("mr.tif")));
  const auto read = read_tiff(path("mr.tif"));
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].bits, 16);
  EXPECT_EQ(read[0].format, SAMPLEFORMAT_UINT);
  EXPECT_EQ(read[0].values<uint16_t>(), stored);
}

TEST_F(TiffExport, Monochrome1IsMinIsWhiteWithValuesUnchanged) {
  std::vector<Uint8> stored(kPixels);
  for (std::size_t i = 0; i < kPixels; ++i) stored[i] = static_cast<Uint8>(255 - 13 * i);
  DcmDataset ds;
  grayscale(ds, "MONOCHROME1", 8, false, stored);
  ASSERT_TRUE(write_tiff(ds, path("cr.tif")));
  const auto read = read_tiff(path("cr.tif"));
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].bits, 8);
  EXPECT_EQ(read[0].format, SAMPLEFORMAT_UINT);
  EXPECT_EQ(read[0].photometric, PHOTOMETRIC_MINISWHITE);
  EXPECT_EQ(read[0].values<uint8_t>(), stored);
}

TEST_F(TiffExport, EightBitStoredWithANegativeInterceptBecomesSigned16Bit) {
  std::vector<Uint8> stored(kPixels, 10);
  DcmDataset ds;
  grayscale(ds, "MONOCHROME2", 8, false, stored);
  ds.putAndInsertString(DCM_RescaleIntercept, "-100");
  ds.putAndInsertString(DCM_RescaleSlope, "1");
  ASSERT_TRUE(write_tiff(ds, path("small.tif")));
  const auto read = read_tiff(path("small.tif"));
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].bits, 16);
  EXPECT_EQ(read[0].format, SAMPLEFORMAT_INT);
  EXPECT_EQ(read[0].values<int16_t>(), std::vector<int16_t>(kPixels, -90));
}

TEST_F(TiffExport, RgbPlanarOneIsWrittenInterleaved) {
  std::vector<Uint8> planes(kPixels * 3);
  for (std::size_t i = 0; i < kPixels; ++i) {
    planes[i] = static_cast<Uint8>(i);                      // red plane
    planes[kPixels + i] = static_cast<Uint8>(100 + i);      // green plane
    planes[2 * kPixels + i] = static_cast<Uint8>(200 + i);  // blue plane
  }
  DcmDataset ds;
  colour(ds, "1.2.826.0.1.3680043.99.9.2", "RGB", 1, planes);
  ASSERT_TRUE(write_tiff(ds, path("rgb.tif")));
  const auto read = read_tiff(path("rgb.tif"));
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].samples, 3);
  EXPECT_EQ(read[0].bits, 8);
  EXPECT_EQ(read[0].photometric, PHOTOMETRIC_RGB);
  EXPECT_EQ(read[0].planar, PLANARCONFIG_CONTIG);
  ASSERT_EQ(read[0].bytes.size(), kPixels * 3);
  for (std::size_t i = 0; i < kPixels; ++i) {
    EXPECT_EQ(read[0].bytes[3 * i], i);
    EXPECT_EQ(read[0].bytes[3 * i + 1], 100 + i);
    EXPECT_EQ(read[0].bytes[3 * i + 2], 200 + i);
  }
}

TEST_F(TiffExport, YbrFullIsConvertedToRgb) {
  // Neutral chroma: red, green and blue all equal the luma.
  std::vector<Uint8> ybr(kPixels * 3);
  for (std::size_t i = 0; i < kPixels; ++i) {
    ybr[3 * i] = static_cast<Uint8>(10 * i);
    ybr[3 * i + 1] = 128;
    ybr[3 * i + 2] = 128;
  }
  DcmDataset ds;
  colour(ds, "1.2.826.0.1.3680043.99.9.3", "YBR_FULL", 0, ybr);
  ASSERT_TRUE(write_tiff(ds, path("ybr.tif")));
  const auto read = read_tiff(path("ybr.tif"));
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].photometric, PHOTOMETRIC_RGB);
  for (std::size_t i = 0; i < kPixels * 3; ++i) EXPECT_NEAR(read[0].bytes[i], 10 * (i / 3), 1);
}

TEST_F(TiffExport, MultiFrameGivesOneNumberedPagePerFrame) {
  std::vector<Uint16> stored;
  for (Uint16 frame : {100, 200, 300}) stored.insert(stored.end(), kPixels, frame);
  DcmDataset ds;
  grayscale(ds, "MONOCHROME2", 16, false, stored, 3);
  auto pages = write_tiff(ds, path("frames.tif"));
  ASSERT_TRUE(pages) << pages.error().to_string();
  EXPECT_EQ(*pages, 3);
  const auto read = read_tiff(path("frames.tif"));
  ASSERT_EQ(read.size(), 3u);
  for (uint16_t page = 0; page < 3; ++page) {
    EXPECT_EQ(read[page].number, page);
    EXPECT_EQ(read[page].pages, 3);
    EXPECT_EQ(read[page].values<uint16_t>(), std::vector<uint16_t>(kPixels, 100 * (page + 1)));
  }
}

TEST_F(TiffExport, PaletteColourIsRefusedByNameAndLeavesNoFile) {
  DcmDataset ds;
  grayscale(ds, "PALETTE COLOR", 8, false, std::vector<Uint8>(kPixels, 1));
  const std::string out = path("palette.tif");
  auto pages = write_tiff(ds, out);
  ASSERT_FALSE(pages);
  EXPECT_EQ(pages.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(pages.error().to_string().find("PhotometricInterpretation"), std::string::npos);
  EXPECT_NE(pages.error().to_string().find("PALETTE COLOR"), std::string::npos);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST_F(TiffExport, WhatCannotBeWrittenExactlyIsRefusedByName) {
  struct Case {
    const char* attribute;
    void (*spoil)(DcmDataset&);
  };
  const Case cases[] = {
      {"RescaleSlope (0028,1053): \"0.5\" is not a whole number",
       [](DcmDataset& ds) {
         ds.putAndInsertString(DCM_RescaleSlope, "0.5");
         ds.putAndInsertString(DCM_RescaleIntercept, "0");
       }},
      {"RescaleIntercept (0028,1052): \"-1024.5\" is not a whole number",
       [](DcmDataset& ds) {
         ds.putAndInsertString(DCM_RescaleSlope, "1");
         ds.putAndInsertString(DCM_RescaleIntercept, "-1024.5");
       }},
      {"RescaleSlope (0028,1053): \"0\" is 0",
       [](DcmDataset& ds) {
         ds.putAndInsertString(DCM_RescaleSlope, "0");
         ds.putAndInsertString(DCM_RescaleIntercept, "0");
       }},
      {"RescaleIntercept (0028,1052): is given without RescaleSlope",
       [](DcmDataset& ds) { ds.putAndInsertString(DCM_RescaleIntercept, "-1024"); }},
      {"PixelValueTransformationSequence (0028,9145): is given per frame",
       [](DcmDataset& ds) {
         DcmItem* frame = nullptr;
         DcmItem* transform = nullptr;
         ds.findOrCreateSequenceItem(DCM_PerFrameFunctionalGroupsSequence, frame, 0);
         frame->findOrCreateSequenceItem(DCM_PixelValueTransformationSequence, transform, 0);
         transform->putAndInsertString(DCM_RescaleSlope, "1");
         transform->putAndInsertString(DCM_RescaleIntercept, "-1024");
       }},
      {"BitsAllocated (0028,0100): 32 is not exported",
       [](DcmDataset& ds) { ds.putAndInsertUint16(DCM_BitsAllocated, 32); }},
      {"FloatPixelData (7FE0,0008): is present",
       [](DcmDataset& ds) {
         const Float32 value = 1.5f;
         ds.putAndInsertFloat32Array(DCM_FloatPixelData, &value, 1);
       }},
      {"PixelData (7FE0,0010): holds modality values from 38976 to 38976",  // 40000 - 1024 is
                                                                            // beyond 16-bit signed
                                                                            // samples
       [](DcmDataset& ds) {
         std::vector<Uint16> big(kPixels, 40000);
         ds.putAndInsertUint16Array(DCM_PixelData, big.data(), big.size());
         ds.putAndInsertString(DCM_RescaleSlope, "1");
         ds.putAndInsertString(DCM_RescaleIntercept, "-1024");
       }},
      {"PhotometricInterpretation (0028,0004): \"YBR_PARTIAL_420\"",
       [](DcmDataset& ds) {
         ds.putAndInsertUint16(DCM_SamplesPerPixel, 3);
         ds.putAndInsertString(DCM_PhotometricInterpretation, "YBR_PARTIAL_420");
       }},
  };
  for (const Case& c : cases) {
    DcmDataset ds;
    grayscale(ds, "MONOCHROME2", 16, false, std::vector<Uint16>(kPixels, 7));
    c.spoil(ds);
    const std::string out = path("refused.tif");
    auto pages = write_tiff(ds, out);
    ASSERT_FALSE(pages) << c.attribute;
    EXPECT_NE(pages.error().to_string().find(c.attribute), std::string::npos)
        << pages.error().to_string();
    EXPECT_FALSE(fs::exists(out)) << c.attribute;
    EXPECT_FALSE(fs::exists(out + ".tmp")) << c.attribute;
  }
}

TEST_F(TiffExport, TheSameDataSetGivesTheSameBytes) {
  std::vector<Sint16> stored(kPixels * 2);
  for (std::size_t i = 0; i < stored.size(); ++i) stored[i] = static_cast<Sint16>(i * 97 - 500);
  DcmDataset ds;
  grayscale(ds, "MONOCHROME2", 16, true, stored, 2);
  ASSERT_TRUE(write_tiff(ds, path("a.tif")));
  ASSERT_TRUE(write_tiff(ds, path("b.tif")));
  auto bytes = [](const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  const std::string first = bytes(path("a.tif"));
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, bytes(path("b.tif")));
}

TEST_F(TiffExport, RleCompressedPixelsAreDecodedAndLeftCompressed) {
  std::vector<Uint8> stored(kPixels * 2);
  for (std::size_t i = 0; i < stored.size(); ++i) stored[i] = static_cast<Uint8>(i * 7 % 256);
  DcmDataset ds;
  grayscale(ds, "MONOCHROME2", 8, false, stored, 2);
  DcmRLEEncoderRegistration::registerCodecs();
  ASSERT_TRUE(ds.chooseRepresentation(EXS_RLELossless, nullptr).good());
  DcmElement* element = nullptr;
  ASSERT_TRUE(ds.findAndGetElement(DCM_PixelData, element).good());
  // Only the compressed form stays, so the export must decode it.
  static_cast<DcmPixelData*>(element)->removeAllButCurrentRepresentations();
  DcmRLEEncoderRegistration::cleanup();
  auto pages = write_tiff(ds, path("rle.tif"));
  ASSERT_TRUE(pages) << pages.error().to_string();
  EXPECT_EQ(ds.getCurrentXfer(), EXS_RLELossless);  // the data set is not decoded in place
  const auto read = read_tiff(path("rle.tif"));
  ASSERT_EQ(read.size(), 2u);
  for (std::size_t frame = 0; frame < 2; ++frame) {
    EXPECT_EQ(read[frame].bits, 8);
    EXPECT_EQ(read[frame].values<uint8_t>(),
              std::vector<uint8_t>(stored.begin() + frame * kPixels,
                                   stored.begin() + (frame + 1) * kPixels));
  }
}

}  // namespace
}  // namespace helix::dicom
