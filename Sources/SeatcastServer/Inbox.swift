import CLibWebSockets
import SeatcastCore
import Synchronization

/// Work handed to the loop thread.
enum LoopMessage: @unchecked Sendable {
    case send(Session, Frame)
    case http(HTTPRequest, HTTPResponse)
    case audited(HTTPRequest, String, [AuditViolation])
    case snapshotLoaded(String, Result<TripSnapshot, ProtocolError>)
    case events(String, [EncodedEvent])
    /// The listener lost history of the trip: reload it.
    case reload(String)
    case outboxLoaded(Session, tripId: String, token: Int, Result<[EventFrame]?, ProtocolError>)
    /// The answer to a command that counted as in flight, with its `type:outcome` label.
    indirect case done(LoopMessage, outcome: String)
    case stop
}

/// A trip event and its frame, encoded once on the listener thread.
struct EncodedEvent: @unchecked Sendable {
    let event: TripEvent
    let frame: Frame
}

/// The loop's inbox: any thread pushes, the loop takes everything at once.
final class Inbox: Sendable {
    private let items = Mutex<[LoopMessage]>([])
    /// The lws context once it exists (0 before and after): the only lws handle other threads use.
    let context = Atomic<Int>(0)

    func push(_ m: LoopMessage) {
        let wasEmpty = items.withLock { list in
            list.append(m)
            return list.count == 1
        }
        if wasEmpty { wake() }
    }

    func push(contentsOf ms: [LoopMessage]) {
        guard !ms.isEmpty else { return }
        let wasEmpty = items.withLock { list in
            let was = list.isEmpty
            list.append(contentsOf: ms)
            return was
        }
        if wasEmpty { wake() }
    }

    /// lws_cancel_service is safe from any thread and from signal handlers.
    func wake() {
        let ctx = context.load(ordering: .acquiring)
        if ctx != 0 { lws_cancel_service(OpaquePointer(bitPattern: ctx)) }
    }

    func takeAll() -> [LoopMessage] {
        items.withLock { list in
            let out = list
            list.removeAll(keepingCapacity: true)
            return out
        }
    }
}
