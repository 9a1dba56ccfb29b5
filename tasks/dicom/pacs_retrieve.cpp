#include "tasks/dicom/pacs_retrieve.h"

#include <arpa/inet.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scp.h>
#include <dcmtk/dcmnet/scu.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "tasks/dicom/pacs_sink.h"

namespace helix::dicom {

namespace {

// A DICOM association holds at most 128 presentation contexts (odd IDs 1-255).
constexpr std::size_t kMaxContexts = 128;

OFList<OFString> to_list(const std::vector<std::string>& syntaxes) {
  OFList<OFString> list;
  for (const auto& syntax : syntaxes) list.push_back(syntax.c_str());
  return list;
}

OFList<OFString> uncompressed() {
  return to_list({UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax});
}

DcmDataset series_keys(const SeriesRef& series) {
  DcmDataset keys;
  keys.putAndInsertString(DCM_QueryRetrieveLevel, "SERIES");
  keys.putAndInsertString(DCM_StudyInstanceUID, series.study_uid.c_str());
  keys.putAndInsertString(DCM_SeriesInstanceUID, series.series_uid.c_str());
  return keys;
}

// The SOP classes to negotiate: those the C-FIND named; when it did not name
// them all, DCMTK's common storage classes as well. Not every storage
// class: an association (and DCMTK's acceptor profile) holds 128 contexts.
std::set<std::string> storage_classes(const std::vector<InstanceRef>& instances) {
  std::set<std::string> classes;
  bool all_known = true;
  for (const auto& instance : instances) {
    if (instance.sop_class_uid.empty())
      all_known = false;
    else
      classes.insert(instance.sop_class_uid);
  }
  if (!all_known) {
    for (int i = 0; i < numberOfDcmShortSCUStorageSOPClassUIDs; ++i)
      classes.insert(dcmShortSCUStorageSOPClassUIDs[i]);
  }
  return classes;
}

Result<void> check_room(const std::set<std::string>& classes) {
  if (classes.size() + 1 > kMaxContexts) {  // one is the C-GET's or C-ECHO's own
    return fail(Error::unavailable("the series holds " + std::to_string(classes.size()) +
                                   " SOP classes, more than one association can negotiate"));
  }
  return {};
}

// The storage contexts a C-GET proposes with us in the SCP role. One
// context per SOP class and transfer syntax lets the PACS send each
// instance as it holds it (a context with several syntaxes gets one of
// them accepted, and the PACS would transcode the rest); when that does
// not fit, one context per class with every syntax.
Result<void> add_get_contexts(DcmSCU& scu, const std::vector<InstanceRef>& instances) {
  const std::set<std::string> classes = storage_classes(instances);
  if (auto room = check_room(classes); !room) return room;
  const auto& syntaxes = storage_transfer_syntaxes();
  const bool one_each = (classes.size() * syntaxes.size() + 1) <= kMaxContexts;
  for (const auto& sop_class : classes) {
    if (one_each) {
      for (const auto& syntax : syntaxes)
        scu.addPresentationContext(sop_class.c_str(), to_list({syntax}), ASC_SC_ROLE_SCP);
    } else {
      scu.addPresentationContext(sop_class.c_str(), to_list(syntaxes), ASC_SC_ROLE_SCP);
    }
  }
  return {};
}

// What a C-GET or C-MOVE came to: the sink's own problem first (it
// explains an early end), then the network, then the PACS's final status
// and counts, then whether every listed instance arrived.
Result<std::vector<std::string>> conclude(
    const std::string& service, DcmSCU& scu, const PacsPeer& peer, const SeriesRef& series,
    const OFCondition& cond, OFList<RetrieveResponse*>& responses, const InstanceSink& sink,
    const std::vector<InstanceRef>& expected, const char* (*status_name)(Uint16),
    const std::string& hint = {}) {
  bool final_seen = false;
  Uint16 status = STATUS_Success;
  int failed = 0, completed = 0;
  for (RetrieveResponse* response : responses) {
    if (!DICOM_PENDING_STATUS(response->m_status)) {
      final_seen = true;
      status = response->m_status;
      failed = response->m_numberOfFailedSubops;
      completed = response->m_numberOfCompletedSubops;
    }
    delete response;
  }
  responses.clear();
  if (sink.problem()) {
    if (scu.isConnected()) scu.abortAssociation();
    return fail(*sink.problem());
  }
  if (cond.bad()) return fail(association_failure(scu, peer, service + " failed", cond.text()));
  if (!final_seen) {
    return fail(association_failure(scu, peer, service + " ended without a final response",
                                    "the peer stopped answering"));
  }
  scu.releaseAssociation();
  const std::string what = service + " of series " + series.series_uid + " from " + peer.host +
                           ":" + std::to_string(peer.port);
  if (status != STATUS_Success) {
    return fail(Error::unavailable(
        what + " ended with status " + dimse_status(status, status_name(status)) + ": " +
        std::to_string(failed) + " failed, " + std::to_string(completed) + " completed" +
        (completed == 0 ? hint : "")));
  }
  std::vector<std::string> written = sink.written();
  std::sort(written.begin(), written.end());
  written.erase(std::unique(written.begin(), written.end()), written.end());
  std::set<std::string> arrived;
  for (const auto& path : written) {
    const auto name = path.substr(path.find_last_of('/') + 1);
    arrived.insert(name.substr(0, name.size() - 4));  // less ".dcm"
  }
  int missing = 0;
  for (const auto& instance : expected) missing += arrived.count(instance.sop_instance_uid) ? 0 : 1;
  if (missing > 0) {
    return fail(Error::unavailable(what + ": " + std::to_string(missing) + " of " +
                                   std::to_string(expected.size()) +
                                   " listed instances did not arrive"));
  }
  return written;
}

// Receives a C-GET's C-STOREs through the sink, bit-preserving.
class GetClient : public DcmSCU {
 public:
  explicit GetClient(InstanceSink& sink) : sink_(sink) {
    setStorageMode(DCMSCU_STORAGE_BIT_PRESERVING);
  }

  OFCondition handleSTORERequestFile(T_ASC_PresentationContextID* context, const OFString&,
                                     T_DIMSE_C_StoreRQ* request) override {
    const std::string uid = request->AffectedSOPInstanceUID;
    const auto path = sink_.begin(uid);
    if (!path) {
      ignoreSTORERequest(*context, *request);
      return EC_IllegalParameter;  // ends the session; the sink says why
    }
    const OFCondition cond = DcmSCU::handleSTORERequestFile(context, path->c_str(), request);
    if (sink_.finish(uid, cond.good()) != STATUS_Success && cond.good()) return EC_IllegalParameter;
    return cond;
  }

 private:
  InstanceSink& sink_;
};

// Our storage SCP for a C-MOVE: accepts associations called our AE title,
// stores through the sink, and stops once told the C-MOVE is over.
class MoveReceiver : public DcmSCP {
 public:
  MoveReceiver(InstanceSink& sink, std::string our_ae) : sink_(sink), our_ae_(std::move(our_ae)) {}

  void stop() { done_ = true; }

 protected:
  OFCondition handleIncomingCommand(T_DIMSE_Message* message,
                                    const DcmPresentationContextInfo& context) override {
    if (message->CommandField != DIMSE_C_STORE_RQ)
      return DcmSCP::handleIncomingCommand(message, context);
    T_DIMSE_C_StoreRQ& request = message->msg.CStoreRQ;
    const T_ASC_PresentationContextID id = context.presentationContextID;
    const std::string uid = request.AffectedSOPInstanceUID;
    const auto path = sink_.begin(uid);
    if (!path) {
      DcmDataset* ignored = nullptr;  // read off the wire, kept nowhere
      const OFCondition cond = receiveSTORERequest(request, id, ignored);
      delete ignored;
      if (cond.bad()) return cond;
      return sendSTOREResponse(id, request, STATUS_STORE_Error_CannotUnderstand);
    }
    const OFCondition cond = receiveSTORERequest(request, id, OFString(path->c_str()));
    const unsigned status = sink_.finish(uid, cond.good());
    if (cond.bad()) return cond;
    return sendSTOREResponse(id, request, static_cast<Uint16>(status));
  }

  OFBool checkCalledAETitleAccepted(const OFString& called) override {
    std::string title = called.c_str();
    while (!title.empty() && title.back() == ' ') title.pop_back();
    return title == our_ae_;
  }
  OFBool stopAfterCurrentAssociation() override { return done_; }
  OFBool stopAfterConnectionTimeout() override { return done_; }

 private:
  InstanceSink& sink_;
  std::string our_ae_;
  std::atomic<bool> done_{false};
};

// Runs the receiver's accept loop on a thread for as long as it lives. The
// loop only looks at its stop flag between associations or after a 1 s
// accept timeout, so stopping also connects to the port once: the empty
// connection ends the wait at once instead of up to a second later.
class ListeningThread {
 public:
  ListeningThread(MoveReceiver& receiver, int port)
      : receiver_(receiver), port_(port), thread_([this] { receiver_.acceptAssociations(); }) {}
  ~ListeningThread() {
    receiver_.stop();
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0) {
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<uint16_t>(port_));
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      (void)connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
      close(fd);
    }
    thread_.join();
  }

 private:
  MoveReceiver& receiver_;
  int port_;
  std::thread thread_;
};

Result<std::vector<InstanceRef>> listed_instances(const PacsPeer& peer, const SeriesRef& series,
                                                  InstanceSink& sink) {
  auto instances = find_instances(peer, series);
  if (!instances) return instances;
  if (auto ready = sink.prepare(); !ready) return fail(ready.error());
  return instances;
}

}  // namespace

Result<std::vector<std::string>> retrieve_series_get(const PacsPeer& peer, const SeriesRef& series,
                                                     const std::string& folder) {
  InstanceSink sink(folder, series.series_uid);
  auto instances = listed_instances(peer, series, sink);
  if (!instances) return fail(instances.error());

  GetClient scu(sink);
  scu.addPresentationContext(UID_GETStudyRootQueryRetrieveInformationModel, uncompressed());
  if (auto added = add_get_contexts(scu, *instances); !added) return fail(added.error());
  if (auto opened = open_association(scu, peer); !opened) return fail(opened.error());
  const T_ASC_PresentationContextID context =
      scu.findPresentationContextID(UID_GETStudyRootQueryRetrieveInformationModel, "");
  if (context == 0) return fail(service_refused(scu, peer, "Study Root C-GET"));
  DcmDataset keys = series_keys(series);
  OFList<RetrieveResponse*> responses;
  const OFCondition cond = scu.sendCGETRequest(context, &keys, &responses);
  return conclude("C-GET", scu, peer, series, cond, responses, sink, *instances,
                  DU_cgetStatusString);
}

Result<std::vector<std::string>> retrieve_series_move(const PacsPeer& peer, const SeriesRef& series,
                                                      const std::string& our_ae, int our_port,
                                                      const std::string& folder) {
  if (auto ok = check_ae_title("our_ae", our_ae); !ok) return fail(ok.error());
  if (our_port < 1 || our_port > 65535)
    return fail(Error::invalid("our_port", std::to_string(our_port) + " is not a TCP port"));
  InstanceSink sink(folder, series.series_uid);
  auto instances = listed_instances(peer, series, sink);
  if (!instances) return fail(instances.error());

  prepare_network();
  MoveReceiver receiver(sink, our_ae);
  receiver.setAETitle(our_ae.c_str());
  receiver.setPort(static_cast<Uint16>(our_port));
  receiver.setConnectionBlockingMode(DUL_NOBLOCK);
  receiver.setConnectionTimeout(1);
  receiver.setACSETimeout(static_cast<Uint32>(peer.timeout_seconds));
  receiver.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  receiver.setDIMSETimeout(static_cast<Uint32>(peer.timeout_seconds));
  receiver.setHostLookupEnabled(OFFalse);
  // Per proposed context the acceptor takes the first of our syntaxes it
  // offers, uncompressed first; a PACS that proposes each instance's own
  // syntax in a context of its own (Orthanc does) gets it accepted as is.
  const std::set<std::string> classes = storage_classes(*instances);
  if (auto room = check_room(classes); !room) return fail(room.error());
  const OFList<OFString> syntaxes = to_list(storage_transfer_syntaxes());
  OFCondition configured =
      receiver.addPresentationContext(UID_VerificationSOPClass, uncompressed());
  for (const auto& sop_class : classes) {
    if (configured.good())
      configured = receiver.addPresentationContext(sop_class.c_str(), syntaxes);
  }
  if (configured.bad())
    return fail(Error::internal("storage SCP configuration: " + std::string(configured.text())));
  const OFCondition listening = receiver.openListenPort();
  if (listening.bad()) {
    return fail(Error::unavailable("association for C-MOVE: cannot listen on port " +
                                       std::to_string(our_port) + " as " + our_ae,
                                   listening.text()));
  }

  OFCondition cond;
  OFList<RetrieveResponse*> responses;
  DcmSCU scu;
  {
    ListeningThread thread(receiver, our_port);
    scu.addPresentationContext(UID_MOVEStudyRootQueryRetrieveInformationModel, uncompressed());
    if (auto opened = open_association(scu, peer); !opened) return fail(opened.error());
    const T_ASC_PresentationContextID context =
        scu.findPresentationContextID(UID_MOVEStudyRootQueryRetrieveInformationModel, "");
    if (context == 0) return fail(service_refused(scu, peer, "Study Root C-MOVE"));
    DcmDataset keys = series_keys(series);
    cond = scu.sendMOVERequest(context, our_ae.c_str(), &keys, &responses);
  }  // every C-STORE was answered before the final C-MOVE response
  // Orthanc answers 0xC000 when it cannot reach the destination.
  return conclude("C-MOVE", scu, peer, series, cond, responses, sink, *instances,
                  DU_cmoveStatusString,
                  " (the PACS must know AE " + our_ae + " at this host, port " +
                      std::to_string(our_port) + ")");
}

}  // namespace helix::dicom
