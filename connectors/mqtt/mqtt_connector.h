// MqttConnector: one MQTT client session (libmosquitto) feeding one protocol
// (a decoder, or a protocol that also answers: mqtt_protocol.h).
//
// Thread: one, owned; start() returns at once, stop() joins. The connector
// runs its own I/O loop instead of mosquitto_loop*(): the library is put in
// threaded mode so acknowledgements (PUBACK) wait in its queue; the loop
// reads everything the socket has (messages are decoded and staged), hands the
// staged batch to the writer, waits for the commit, and only then lets the
// queued packets out. So a QoS 1 message is never acknowledged before its
// readings or its rejection are committed (DESIGN.md §7): a crash at any point
// loses nothing, the broker redelivers and deduplication absorbs it.
// Publications of the protocol (answers, commands) are held by the connector
// and handed to libmosquitto only once the commit succeeded; a failed commit
// drops them (the library, which resends QoS 1/2 messages after a reconnect,
// never saw them) and tells the protocol (MqttProtocol::on_commit).
// QoS 2 subscriptions cannot be made loss-free this way (the library sends
// PUBREC before the application sees the payload); the config warns.
//
// Oversized messages (over max_payload) are stored rejected with at most the
// store's max_stored_payload bytes of their payload: no more is copied. With
// MQTT 5 the connector announces a Maximum Packet Size (maximum_packet_size())
// so the broker does not even send much larger ones; with 3.1.1 libmosquitto
// still reads such a packet whole into memory before the connector sees it.
// Back-pressure: while the writer's queue is full the commit blocks, the
// loop stops reading and the broker holds the messages.
// Staging budget: the loop also stops reading (and commits) once what it
// staged reaches the writer's batch_max_rows rows, about 4 MiB, or 2,000
// messages, whichever comes first, so memory does not follow the size of a
// burst. A batch is submitted in parts of at most batch_max_rows rows (a
// single larger message goes alone); acks leave once every part is committed.
// Sessions: clean_session = false and a fixed client id by default, so the
// broker queues messages while the daemon is away; subscriptions are sent
// again only when the broker reports no session. Never unsubscribes.
// Reconnects: exponential backoff (1 s doubling to 60 s) with ±20 % jitter,
// each one logged and counted; while it waits, the state is `reconnecting`
// with the last error (the library's own reason appended, e.g. OpenSSL's).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "connectors/connector.h"
#include "connectors/connector_config.h"
#include "connectors/connector_health.h"
#include "connectors/mqtt/mosquitto_handle.h"
#include "connectors/mqtt/mqtt_protocol.h"
#include "normalize/decoder.h"
#include "storage/envelope.h"

namespace mb {

class Writer;

// Room in an MQTT 5 packet for what is not payload: the topic (up to 65,535
// bytes, plus its length and the packet id) and the properties.
inline constexpr std::size_t kMaximumPacketHeadroom = 64 * 1024;

// The Maximum Packet Size a v5 connector announces in CONNECT: max_payload
// plus that headroom, within MQTT's limit. A payload up to max_payload always
// fits unless its topic and properties take more than 64 KiB.
std::uint32_t maximum_packet_size(std::size_t max_payload);

class MqttConnector final : public Connector {
  public:
    MqttConnector(Writer& writer, const ConnectorConfig& config, const BrokerConfig& broker,
                  std::unique_ptr<Decoder> decoder);
    MqttConnector(Writer& writer, const ConnectorConfig& config, const BrokerConfig& broker,
                  std::unique_ptr<MqttProtocol> protocol);
    ~MqttConnector() override;

    void start() override;
    void stop() override;
    Health health() const override;
    const std::string& name() const override { return config_.name; }
    void send_command(DeviceCommand command, CommandDone done) override;

  private:
    class Outbox final : public MqttOutbox {
      public:
        explicit Outbox(MqttConnector& c) : c_(c) {}
        bool publish(const std::string& topic, std::string_view payload) override;
        bool connected() const override { return c_.connected_ && !c_.session_lost_; }

      private:
        MqttConnector& c_;
    };

    // Runs the protocol's timers; stages what they produce.
    void tick();
    void wake();
    void drain_wake();
    void run();
    // Connects (blocking TCP/TLS); false when it failed (logged).
    bool connect();
    // A failed connect or a lost connection: `why`, with the library's last error
    // appended, kept for the state; returns it for the log line.
    const std::string& failed(const std::string& why);
    // One connected session; returns when the connection is lost or stop was asked.
    void session();
    // Commits what on_message staged; false when the commit failed (acks must not leave).
    // Then hands the held publications to the library, or drops them if it failed.
    bool commit_staged();
    void release_held();
    // True when reading one more message would take the staged batch past its budget.
    bool staging_full() const;
    void on_connect(int rc, int flags);
    void on_message(const mosquitto_message* msg, const mosquitto_property* props);
    std::chrono::milliseconds next_backoff();

    static void on_connect_cb(mosquitto*, void* self, int rc, int flags, const mosquitto_property*);
    static void on_message_cb(mosquitto*, void* self, const mosquitto_message* msg,
                              const mosquitto_property* props);
    static void on_subscribe_cb(mosquitto*, void* self, int mid, int qos_count, const int* granted,
                                const mosquitto_property*);
    static void on_log_cb(mosquitto*, void* self, int level, const char* text);

    Writer& writer_;
    ConnectorConfig config_;
    BrokerConfig broker_;
    std::unique_ptr<MqttProtocol> protocol_;
    MosquittoHandle mosq_;
    Outbox outbox_{*this};
    int wake_fd_ = -1;  // eventfd: another thread has work for this one (a command)
    std::atomic<bool> running_{false};

    struct Publication {
        std::string topic, payload;
    };
    // What the protocol published since the last commit: libmosquitto would keep a
    // QoS 1/2 message and resend it after a reconnect, even if its commit failed, so
    // it only gets publications whose commit succeeded.
    std::vector<Publication> held_;

    Batch staged_;
    std::size_t staged_rows_ = 0;        // rows of the messages staged by on_message
    std::size_t staged_bytes_ = 0;       // their approximate heap footprint
    std::size_t last_message_rows_ = 0;  // rows of the last message: the next is likely alike
    std::atomic<bool> stop_requested_{false};
    bool connected_ = false;     // CONNACK accepted in this session
    bool session_lost_ = false;  // set by callbacks to end the session
    int failures_ = 0;           // consecutive failed connects, for backoff
    std::string last_error_;     // why the last connect failed or the connection was lost
    std::string lib_error_;      // libmosquitto's last error line (e.g. OpenSSL's reason)
    std::chrono::steady_clock::time_point last_misc_{};

    ConnectorHealth health_;
    std::thread thread_;
};

}  // namespace mb
