// Owns: the server's counters, rendered for GET /metrics (Prometheus text). Thread: loop;
// shared by the loop's handlers, which count what they do.

final class Metrics {
    var connectionsTotal = 0
    var connections = 0
    var subscriptions = 0
    var messagesReceived = 0
    var requests: [String: Int] = [:]
    var errors: [String: Int] = [:]
    var commandOutcomes: [String: Int] = [:]
    var eventsDelivered = 0
    var eventsReceived = 0
    var snapshotsSent = 0
    var queueOverflows = 0
    var resyncSnapshots = 0
    var slowClientsClosed = 0
    var rateLimited = 0
    var httpRequests = 0
    var auditViolations = 0
    var coalescedWrites = 0
    var coalescedFrames = 0
    /// send() calls that took every byte at once, and those that took only part.
    var directWrites = 0
    var partialWrites = 0
    /// Credentials refused (version 1.1), by `Authenticator.Refusal.label`; never the
    /// credentials themselves.
    var authRefusals: [String: Int] = [:]
    /// `auth` messages that replaced a connection's token.
    var tokenRefreshes = 0
    /// Connections closed (1008) because their token ran out.
    var tokenExpiryCloses = 0
    /// WebSockets closed (1008) for their Origin.
    var originRefusals = 0
    var parallelPasses = 0
    /// Commit-to-send latency, seconds: from the database writing the event (at the end of
    /// its statement, just before commit) to its frame being queued to every subscriber.
    static let buckets: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
    var fanoutLatency = [Int](repeating: 0, count: 11)
    var fanoutLatencySum = 0.0
    var fanoutLatencyCount = 0

    func observeFanout(_ seconds: Double) {
        var i = 0
        while i < Self.buckets.count, seconds > Self.buckets[i] { i += 1 }
        fanoutLatency[i] += 1
        fanoutLatencySum += seconds
        fanoutLatencyCount += 1
    }

    func render(hubs: Int, extra: String) -> String {
        var s = ""
        func header(_ name: String, _ help: String, _ type: String) {
            s += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        // One row a metric, in the order they are rendered: name, help, then a gauge or counter
        // value, or counts by one label, or (command outcomes) by "type:outcome".
        enum Value { case gauge(Int), counter(Int), by(String, [String: Int]), typeOutcome([String: Int]) }
        let table: [(String, String, Value)] = [
            ("seatcast_connections", "Open WebSocket connections.", .gauge(connections)),
            ("seatcast_connections_total", "WebSocket connections accepted.", .counter(connectionsTotal)),
            ("seatcast_subscriptions", "Trip subscriptions held by open connections.", .gauge(subscriptions)),
            ("seatcast_trips_live", "Trips with an in-memory seat map on this instance.", .gauge(hubs)),
            ("seatcast_messages_received_total", "WebSocket messages received.", .counter(messagesReceived)),
            ("seatcast_requests_total", "Requests by type.", .by("type", requests)),
            ("seatcast_errors_total", "Error replies by code.", .by("code", errors)),
            ("seatcast_command_outcomes_total", "Reserve/confirm/release answers by type and outcome.", .typeOutcome(commandOutcomes)),
            ("seatcast_events_received_total", "Trip events received from the database.", .counter(eventsReceived)),
            ("seatcast_events_delivered_total", "Trip event frames queued to subscribers.", .counter(eventsDelivered)),
            ("seatcast_snapshots_sent_total", "Snapshots sent.", .counter(snapshotsSent)),
            ("seatcast_queue_overflows_total", "Outbound queues dropped because a client fell behind.", .counter(queueOverflows)),
            ("seatcast_resync_snapshots_total", "Snapshots sent to resynchronise a slow client.", .counter(resyncSnapshots)),
            ("seatcast_slow_clients_closed_total", "Connections closed for falling behind repeatedly.", .counter(slowClientsClosed)),
            ("seatcast_rate_limited_total", "Messages refused by the rate limit.", .counter(rateLimited)),
            ("seatcast_http_requests_total", "HTTP API requests.", .counter(httpRequests)),
            ("seatcast_audit_violations_total", "Invariant violations reported by audits.", .counter(auditViolations)),
            ("seatcast_coalesced_writes_total", "Writes that carried several queued messages at once.", .counter(coalescedWrites)),
            ("seatcast_coalesced_frames_total", "Messages sent in coalesced writes.", .counter(coalescedFrames)),
            ("seatcast_socket_writes_total", "send() calls the socket took whole.", .counter(directWrites)),
            ("seatcast_partial_writes_total", "send() calls the socket took only part of (lws keeps the rest).", .counter(partialWrites)),
            ("seatcast_auth_refusals_total", "Credentials refused (401), by reason.", .by("reason", authRefusals)),
            ("seatcast_token_refreshes_total", "auth messages that replaced a connection's token.", .counter(tokenRefreshes)),
            ("seatcast_token_expiry_closes_total", "Connections closed (1008) because their token ran out.", .counter(tokenExpiryCloses)),
            ("seatcast_origin_refusals_total", "WebSockets closed with 1008 for their Origin.", .counter(originRefusals)),
            ("seatcast_parallel_flushes_total", "Flush passes written by two threads.", .counter(parallelPasses)),
        ]
        for (name, help, value) in table {
            switch value {
            case .gauge(let v):
                header(name, help, "gauge")
                s += "\(name) \(v)\n"
            case .counter(let v):
                header(name, help, "counter")
                s += "\(name) \(v)\n"
            case .by(let label, let m):
                header(name, help, "counter")
                for (k, v) in m.sorted(by: { $0.key < $1.key }) { s += "\(name){\(label)=\"\(k)\"} \(v)\n" }
            case .typeOutcome(let m):
                header(name, help, "counter")
                for (k, v) in m.sorted(by: { $0.key < $1.key }) {
                    let parts = k.split(separator: ":", maxSplits: 1)
                    s += "\(name){type=\"\(parts[0])\",outcome=\"\(parts.count > 1 ? parts[1] : "")\"} \(v)\n"
                }
            }
        }
        header("seatcast_fanout_seconds", "Commit-to-send latency: event written in the database to queued for all subscribers.", "histogram")
        var cumulative = 0
        for (i, b) in Self.buckets.enumerated() {
            cumulative += fanoutLatency[i]
            s += "seatcast_fanout_seconds_bucket{le=\"\(b)\"} \(cumulative)\n"
        }
        cumulative += fanoutLatency[Self.buckets.count]
        s += "seatcast_fanout_seconds_bucket{le=\"+Inf\"} \(cumulative)\n"
        s += "seatcast_fanout_seconds_sum \(fanoutLatencySum)\nseatcast_fanout_seconds_count \(fanoutLatencyCount)\n"
        return s + extra
    }
}
