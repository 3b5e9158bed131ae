import Testing
@testable import SeatcastCore

// What the `Outbox` tests share: labelled frames of a chosen size, the steps as values, and
// a harness that plays the server's part. The tests (Outbox*Tests.swift) check every rule
// of `Outbox`'s doc comment without sockets; time is a plain number they choose.

/// A frame labelled `label` (the payload starts with it) of exactly `wire` bytes on the wire.
func frame(_ label: String, wire: Int = 100, stream: Bool = false, trip: String? = nil) -> Frame {
    let payload = wire - 2 < 126 ? wire - 2 : wire - 4
    precondition(payload >= label.utf8.count && Frame.headerLength(payload) + payload == wire, "no frame of \(wire) wire bytes")
    let bytes = Array(label.utf8) + [UInt8](repeating: UInt8(ascii: "."), count: payload - label.utf8.count)
    return Frame(bytes, stream: stream, tripId: trip)
}

func event(_ label: String, _ trip: String, wire: Int = 100) -> Frame {
    frame(label, wire: wire, stream: true, trip: trip)
}

func label(_ f: Frame) -> String {
    String(f.text.prefix { $0 != "." })
}

/// `Outbox.Step` made comparable: written frames by label.
enum OutboxStep: Equatable, CustomStringConvertible {
    case idle
    case write([String])
    case snapshot(String)
    case close(UInt16)

    init(_ s: Outbox.Step) {
        switch s {
        case .idle: self = .idle
        case let .write(frames): self = .write(frames.map(label))
        case let .snapshot(trip): self = .snapshot(trip)
        case let .close(code): self = .close(code)
        }
    }

    var description: String {
        switch self {
        case .idle: "idle"
        case let .write(l): "write\(l)"
        case let .snapshot(t): "snapshot(\(t))"
        case let .close(c): "close(\(c))"
        }
    }
}

/// Holds an outbox so `#expect` can look at results of mutating calls, and plays the
/// server's part where a test needs it (writing, answering `.snapshot` steps).
final class OutboxHarness {
    var ob = Outbox()
    var policy: Outbox.Policy
    /// The connection's subscriptions, as `push` asks for them on overflow.
    var subscriptions: [String]
    /// How often `push` asked for the subscriptions (only an overflow should).
    var subscriptionQueries = 0

    init(cap: Int = 1000, stalled: Double = 1, maxResyncs: Int = 2, window: Double = 10, subscriptions: [String] = ["A", "B"]) {
        policy = Outbox.Policy(maxQueuedBytes: cap, stalledSeconds: stalled, maxResyncs: maxResyncs, resyncWindowSeconds: window)
        self.subscriptions = subscriptions
    }

    private func subs() -> [String] {
        subscriptionQueries += 1
        return subscriptions
    }

    func push(_ f: Frame, at now: Double = 0) -> Outbox.PushResult {
        ob.push(f, now: now, policy, subscriptions: self.subs())
    }

    func next(_ maxBytes: Int = .max) -> OutboxStep { OutboxStep(ob.next(maxBytes: maxBytes)) }

    @discardableResult func blocked(now: Double) -> Bool { ob.blocked(now: now) }
    @discardableResult func resync(tripId: String) -> Bool { ob.resync(tripId: tripId) }
    @discardableResult func close(_ code: UInt16, drain: Bool = false) -> Bool { ob.close(code, drain: drain) }

    /// One write: `next`, then `wrote` for all of it. The labels written ([] if not a write).
    @discardableResult
    func writeOnce(_ maxBytes: Int = .max) -> [String] {
        guard case let .write(frames) = ob.next(maxBytes: maxBytes) else { return [] }
        let labels = frames.map(label)
        ob.wrote(frames.count)
        return labels
    }

    /// Runs the queue as a server that can always write: writes everything, answers each
    /// `.snapshot` step with a snapshot frame labelled `snap-<trip>`, until `.idle` or
    /// `.close`. Returns every step taken, the last one included.
    func drain(maxBytes: Int = .max, snapshotWire: Int = 100) -> [OutboxStep] {
        var steps: [OutboxStep] = []
        for _ in 0..<10_000 {
            let s = ob.next(maxBytes: maxBytes)
            steps.append(OutboxStep(s))
            switch s {
            case .idle, .close:
                return steps
            case let .write(frames):
                ob.wrote(frames.count)
            case let .snapshot(trip):
                ob.pushSnapshot(event("snap-\(trip)", trip, wire: snapshotWire))
            }
        }
        Issue.record("drain did not end: \(steps.suffix(5))")
        return steps
    }

    /// Every label `drain` wrote, in order.
    func drainWritten(maxBytes: Int = .max) -> [String] {
        drain(maxBytes: maxBytes).flatMap { if case let .write(l) = $0 { l } else { [String]() } }
    }

    /// Makes one overflow happen at `now`: fills the queue with a stream frame of trip
    /// "F" (not a subscription, so never awaiting a resync) and pushes one more. The queue
    /// must hold no stream frames of "F"'s size beforehand; returns the second push's result.
    func overflow(at now: Double) -> Outbox.PushResult {
        let first = push(event("fill", "F", wire: policy.maxQueuedBytes - 100), at: now)
        #expect(first == .queued || first == .dropped, "filling: \(first)")
        return push(event("over", "F", wire: 200), at: now)
    }

    /// An overflow at `now` by a client stalled for 2 s: the queue drained, writing
    /// blocked since `now - 2`, then `overflow(at:)`.
    func stalledOverflow(at now: Double) -> Outbox.PushResult {
        ob.writable()
        _ = drain()
        _ = blocked(now: now - 2)
        return overflow(at: now)
    }
}
