import CLibWebSockets
import Foundation
import SeatcastCore
import Synchronization

// Owns: the server as SeatcastApp sees it: it builds the loop's parts and wires them
// together, starts the service thread and stops it. Thread: any (`start`, `stop`, `port`);
// the listener thread calls the `SeatEventSink` methods. Nothing here touches loop state:
// other threads reach the loop only through the `LoopEntry`.
//
// The parts, each with one job (docs/ARCHITECTURE.md, "Server structure"):
// `ServiceLoop` runs the loop thread (`LWSContext`: the lws context itself);
// `WebSocketHandler` receives, decodes and dispatches; `ConnectionAuth` keeps each
// connection's credentials and the token expiry timer; `Sender` carries out each
// session's `Outbox`; `TripRouter` carries out the `SubscriptionMachine`; `HTTPHandler`
// answers HTTP; `CommandGate` admits commands and counts them for shutdown; `LoopEntry`
// is the inbox and every off-loop entry point.

/// The seatcast server: one lws context, one service thread, every socket.
public final class Server: @unchecked Sendable {
    public let config: ServerConfig
    private let entry: LoopEntry
    private let loop: ServiceLoop

    // Set by the loop thread before `start` returns.
    private let listeningPort = Atomic<Int>(0)
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let startError = Mutex<String?>(nil)
    private let running = Atomic<Bool>(false)

    public init(config: ServerConfig, backend: any SeatBackend) {
        precondition(Frame.headroom >= Int(seatcast_lws_pre()), "Frame.headroom is less than LWS_PRE")
        self.config = config
        let thread = LoopThread()
        let metrics = Metrics()
        let entry = LoopEntry(loopThread: thread)
        let gate = CommandGate(loopThread: thread)
        let sender = Sender(policy: Outbox.Policy(config.limits), metrics: metrics, loopThread: thread,
                            parallelFrom: ProcessInfo.processInfo.activeProcessorCount > 1 ? config.parallelSendFrom : nil)
        let trips = TripRouter(config: config, backend: backend, entry: entry, sender: sender, metrics: metrics,
                               loopThread: thread)
        sender.trips = trips
        let auth = ConnectionAuth(config: config, entry: entry, sender: sender, trips: trips, metrics: metrics,
                                  loopThread: thread)
        let webSockets = WebSocketHandler(config: config, backend: backend, entry: entry, gate: gate, sender: sender,
                                          trips: trips, metrics: metrics, auth: auth, loopThread: thread)
        auth.webSockets = webSockets
        let http = HTTPHandler(config: config, backend: backend, entry: entry, gate: gate, trips: trips,
                               metrics: metrics, auth: auth, loopThread: thread)
        self.entry = entry
        loop = ServiceLoop(config: config, entry: entry, gate: gate, sender: sender, trips: trips,
                           webSockets: webSockets, http: http, auth: auth, metrics: metrics, loopThread: thread)
    }

    /// The port it listens on, once started.
    public var port: Int { listeningPort.load(ordering: .relaxed) }

    /// Starts the service thread and returns once the port is open.
    public func start() throws {
        let t = Thread { [self] in
            loop.run { port, _ in
                if let port {
                    listeningPort.store(port, ordering: .relaxed)
                    running.store(true, ordering: .sequentiallyConsistent)
                } else {
                    startError.withLock { $0 = "cannot listen on port \(config.port) (in use, or not permitted)" }
                }
                started.signal()
            }
            finished.signal()
        }
        t.name = "seatcast-lws"
        t.stackSize = 8 << 20
        t.start()
        started.wait()
        if let e = startError.withLock({ $0 }) { throw ServerError(message: e) }
    }

    /// Closes every WebSocket with 1001, answers nothing more, and waits for the loop to end.
    /// Safe to call twice.
    public func stop() {
        guard running.load(ordering: .sequentiallyConsistent) else { return }
        entry.stop()
        // The loop exits when every session has closed or the grace period has passed;
        // keep waking it so it notices either.
        while finished.wait(timeout: .now() + .milliseconds(50)) == .timedOut { entry.wake() }
        running.store(false, ordering: .sequentiallyConsistent)
    }
}

public struct ServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension Server: SeatEventSink {
    /// Listener thread.
    public func deliver(tripId: String, events: [TripEvent]) { entry.deliver(tripId: tripId, events: events) }

    /// Listener thread.
    public func resync(tripId: String) { entry.reload(tripId: tripId) }
}
