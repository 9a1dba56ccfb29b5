// Secret-keyed replacements: the same input and site secret always give the
// same pseudonym, UID and date offset, and nobody without the secret can
// link them back.
//
// Owns: HMAC-derived UIDs (2.25 form), patient pseudonyms, per-patient day
// offsets and DA/DT date shifting. Does not own: storing the secret.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace helix::dicom {

// "2.25." followed by the decimal of the first 128 bits of
// HMAC-SHA256(secret, "uid:" + uid); at most 44 characters, a valid UI.
std::string pseudonymous_uid(std::string_view secret, std::string_view uid);

// "ANON" followed by 12 upper-case hex digits of HMAC(secret, "patient:" + id).
std::string patient_pseudonym(std::string_view secret, std::string_view patient_id);

// Days to subtract from every date of this patient: 1..max_days (inclusive),
// from HMAC(secret, "shift:" + patient_id).
int patient_day_offset(std::string_view secret, std::string_view patient_id, int max_days = 3650);

// Shifts a DA value ("YYYYMMDD") by -days; a DT value keeps its time part
// ("YYYYMMDDHHMMSS.FFFFFF&ZZXX" -> shifted date + same rest). Calendar-exact
// (leap years). InvalidInput for anything that is not a valid date.
Result<std::string> shift_date(std::string_view value, int days);

}  // namespace helix::dicom
