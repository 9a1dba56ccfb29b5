// The PACS we talk to, and the association setup every DICOM network
// operation shares (C-FIND, C-GET, C-MOVE, C-STORE): peer checks, timeouts,
// TCP_NODELAY, and association failures worded the same way everywhere.
//
// Owns: PacsPeer, opening DcmSCU associations and wording their failures,
// the transfer syntaxes we accept when retrieving. Does not own: what is sent on an association
// (pacs_query.h, pacs_retrieve.h, pacs_store.h).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

class DcmSCU;

namespace helix::dicom {

struct PacsPeer {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string called_ae;             // the PACS's AE title
  std::string calling_ae = "HELIX";  // ours
  int timeout_seconds = 30;          // connect, association and each DIMSE message
};

// InvalidInput naming each bad field (port range, AE titles of 1-16
// characters without backslash or control characters, timeout).
Result<void> check_peer(const PacsPeer& peer);
// The same rules for an AE title of ours (the C-MOVE destination).
Result<void> check_ae_title(const std::string& field, const std::string& ae);

// Whether an error is a network failure: nothing listening, association
// rejected or aborted, a DIMSE timeout. Such errors are Unavailable and
// their message starts with "association", so a pipeline Retry (and the
// CLI's exit code 4) can tell them from a PACS that refused an instance.
bool is_network_failure(const Error& error);

// "association with AE at host:port (calling AE X)": the start of every
// network failure message.
std::string describe(const PacsPeer& peer);

// "0xA700 (Refused: Out of Resources)": a DIMSE status and DCMTK's name for it.
std::string dimse_status(unsigned status, const char* name);

// Sets DCMTK's process-wide network settings once (TCP_NODELAY); every
// function that opens a socket calls it first.
void prepare_network();

// Every transfer syntax a retrieval negotiates for storage, uncompressed
// first: the generator's (explicit and implicit little endian, big endian,
// deflated, RLE, JPEG lossless SV1, JPEG-LS lossless) and the common lossy
// ones, so a retrieval keeps what the archive holds and the de-identifier
// decides what it can read.
const std::vector<std::string>& storage_transfer_syntaxes();

// Configures scu for peer (AE titles, address, timeouts, non-blocking
// DIMSE) and negotiates the presentation contexts already added to it.
// Unavailable "association ... failed: reason" when nothing listens or the
// PACS rejects us; Unavailable (not a network failure) when it accepts
// none of the contexts.
Result<void> open_association(DcmSCU& scu, const PacsPeer& peer);

// Unavailable "association ... <what>: <DCMTK's reason>" for a failure on an
// open association; the association is aborted (it cannot be trusted after).
Error association_failure(DcmSCU& scu, const PacsPeer& peer, const std::string& what,
                          const std::string& reason);

// Unavailable (not a network failure: asking again gets the same answer)
// "AE at host:port does not accept <service>" when the association came up
// without the context the service needs; the association is released.
Error service_refused(DcmSCU& scu, const PacsPeer& peer, const std::string& service);

}  // namespace helix::dicom
