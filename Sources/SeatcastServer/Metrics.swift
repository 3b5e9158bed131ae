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
        func counter(_ name: String, _ help: String, _ v: Int) {
            s += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(v)\n"
        }
        func gauge(_ name: String, _ help: String, _ v: Int) {
            s += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(v)\n"
        }
        func labelled(_ name: String, _ help: String, _ label: String, _ m: [String: Int]) {
            s += "# HELP \(name) \(help)\n# TYPE \(name) counter\n"
            for (k, v) in m.sorted(by: { $0.key < $1.key }) { s += "\(name){\(label)=\"\(k)\"} \(v)\n" }
        }
        gauge("seatcast_connections", "Open WebSocket connections.", connections)
        counter("seatcast_connections_total", "WebSocket connections accepted.", connectionsTotal)
        gauge("seatcast_subscriptions", "Trip subscriptions held by open connections.", subscriptions)
        gauge("seatcast_trips_live", "Trips with an in-memory seat map on this instance.", hubs)
        counter("seatcast_messages_received_total", "WebSocket messages received.", messagesReceived)
        labelled("seatcast_requests_total", "Requests by type.", "type", requests)
        labelled("seatcast_errors_total", "Error replies by code.", "code", errors)
        s += "# HELP seatcast_command_outcomes_total Reserve/confirm/release answers by type and outcome.\n"
        s += "# TYPE seatcast_command_outcomes_total counter\n"
        for (k, v) in commandOutcomes.sorted(by: { $0.key < $1.key }) {
            let parts = k.split(separator: ":", maxSplits: 1)
            s += "seatcast_command_outcomes_total{type=\"\(parts[0])\",outcome=\"\(parts.count > 1 ? parts[1] : "")\"} \(v)\n"
        }
        counter("seatcast_events_received_total", "Trip events received from the database.", eventsReceived)
        counter("seatcast_events_delivered_total", "Trip event frames queued to subscribers.", eventsDelivered)
        counter("seatcast_snapshots_sent_total", "Snapshots sent.", snapshotsSent)
        counter("seatcast_queue_overflows_total", "Outbound queues dropped because a client fell behind.", queueOverflows)
        counter("seatcast_resync_snapshots_total", "Snapshots sent to resynchronise a slow client.", resyncSnapshots)
        counter("seatcast_slow_clients_closed_total", "Connections closed for falling behind repeatedly.", slowClientsClosed)
        counter("seatcast_rate_limited_total", "Messages refused by the rate limit.", rateLimited)
        counter("seatcast_http_requests_total", "HTTP API requests.", httpRequests)
        counter("seatcast_audit_violations_total", "Invariant violations reported by audits.", auditViolations)
        counter("seatcast_coalesced_writes_total", "Writes that carried several queued messages at once.", coalescedWrites)
        counter("seatcast_coalesced_frames_total", "Messages sent in coalesced writes.", coalescedFrames)
        counter("seatcast_socket_writes_total", "send() calls the socket took whole.", directWrites)
        counter("seatcast_partial_writes_total", "send() calls the socket took only part of (lws keeps the rest).", partialWrites)
        s += "# HELP seatcast_fanout_seconds Commit-to-send latency: event written in the database to queued for all subscribers.\n"
        s += "# TYPE seatcast_fanout_seconds histogram\n"
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
