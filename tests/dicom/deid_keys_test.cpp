#include "tasks/dicom/deid_keys.h"

#include <gtest/gtest.h>

namespace helix::dicom {
namespace {

TEST(DicomKeys, UidIsDeterministicPerSecretAndValid) {
  const std::string a = pseudonymous_uid("secret-1", "1.2.840.113619.2.55.3");
  EXPECT_EQ(a, pseudonymous_uid("secret-1", "1.2.840.113619.2.55.3"));
  EXPECT_NE(a, pseudonymous_uid("secret-2", "1.2.840.113619.2.55.3"));
  EXPECT_NE(a, pseudonymous_uid("secret-1", "1.2.840.113619.2.55.4"));
  ASSERT_EQ(a.rfind("2.25.", 0), 0u);
  EXPECT_LE(a.size(), 64u);
  EXPECT_NE(a[5], '0');  // no leading zero in the component
  for (char c : a.substr(5)) EXPECT_TRUE(c >= '0' && c <= '9');
  EXPECT_EQ(a.find("113619"), std::string::npos);
}

TEST(DicomKeys, PseudonymHidesTheIdAndIsStable) {
  const std::string p = patient_pseudonym("s", "PID-0001");
  EXPECT_EQ(p, patient_pseudonym("s", "PID-0001"));
  EXPECT_NE(p, patient_pseudonym("s", "PID-0002"));
  EXPECT_EQ(p.size(), 16u);
  EXPECT_EQ(p.find("0001"), std::string::npos);
}

TEST(DicomKeys, DayOffsetInRangeAndPerPatient) {
  int differing = 0;
  for (int i = 0; i < 50; ++i) {
    const std::string id = "P" + std::to_string(i);
    const int offset = patient_day_offset("s", id, 30);
    EXPECT_GE(offset, 1);
    EXPECT_LE(offset, 30);
    EXPECT_EQ(offset, patient_day_offset("s", id, 30));
    if (offset != patient_day_offset("s", "P0", 30)) ++differing;
  }
  EXPECT_GT(differing, 30);
}

TEST(DicomKeys, ShiftDateIsCalendarExact) {
  EXPECT_EQ(*shift_date("20240301", 1), "20240229");
  EXPECT_EQ(*shift_date("20230301", 1), "20230228");
  EXPECT_EQ(*shift_date("20240101", 366), "20221231");
  EXPECT_EQ(*shift_date("20200115143000.123456+0100", 15), "20191231143000.123456+0100");
  EXPECT_FALSE(shift_date("2024", 1));
  EXPECT_FALSE(shift_date("20241301", 1));
  EXPECT_FALSE(shift_date("2024AB01", 1));
  EXPECT_FALSE(shift_date("20230229", 1));
}

}  // namespace
}  // namespace helix::dicom
