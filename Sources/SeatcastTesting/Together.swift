import Foundation
import SeatcastPostgres
import Synchronization

// Running test work on several threads at the same moment, and waiting for a condition.

/// Runs `prepare(i)` then `body(i, resource)` for every i in 0..<count, each on a thread
/// of its own; every body starts at the same moment, once all threads are prepared.
/// Returns when every thread has finished: what any of them threw, as "thread i: error"
/// (empty when nothing was).
public func runTogether<Resource>(_ count: Int, stackSize: Int? = nil,
                                  prepare: @escaping @Sendable (_ index: Int) throws -> Resource,
                                  _ body: @escaping @Sendable (_ index: Int, _ resource: Resource) throws -> Void) -> [String] {
    let ready = DispatchSemaphore(value: 0)
    let go = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    let errors = Mutex<[(Int, String)]>([])
    for i in 0..<count {
        done.enter()
        let thread = Thread {
            var resource: Resource?
            do {
                resource = try prepare(i)
            } catch {
                errors.withLock { $0.append((i, "thread \(i) prepare: \(error)")) }
            }
            ready.signal()
            go.wait()
            if let resource {
                do { try body(i, resource) } catch { errors.withLock { $0.append((i, "thread \(i): \(error)")) } }
            }
            resource = nil
            done.leave()
        }
        if let stackSize { thread.stackSize = stackSize }
        thread.start()
    }
    for _ in 0..<count { ready.wait() }
    for _ in 0..<count { go.signal() }
    done.wait()
    return errors.withLock { $0 }.sorted { $0.0 < $1.0 }.map(\.1)
}

/// Runs `body(i)` for every i in 0..<count, each on a thread of its own, all started at
/// the same moment. Returns what any of them threw (empty when nothing was).
public func runTogether(_ count: Int, stackSize: Int? = nil, _ body: @escaping @Sendable (_ index: Int) throws -> Void) -> [String] {
    runTogether(count, stackSize: stackSize, prepare: { _ in () }) { i, _ in try body(i) }
}

/// Runs `body(i, db)` on `count` threads, each with its own connection to the test
/// database, all started at the same moment once every thread has connected.
public func runTogether(_ count: Int, _ body: @escaping @Sendable (_ index: Int, _ db: PGConnection) throws -> Void) -> [String] {
    runTogether(count, prepare: { _ in try TestDatabase.shared.connect() }, body)
}

/// Sends `text(i)` from `clients[i]`, one thread per client, all at the same moment.
/// Returns the sends that failed (empty when none did).
@discardableResult
public func sendTogether(_ clients: [WSClient], _ text: @escaping @Sendable (Int) -> String) -> [String] {
    // Each thread touches only its own client.
    let box = UncheckedBox(clients)
    return runTogether(clients.count) { i in try box.value[i].send(text(i)) }
}

/// Lets values that one thread at a time uses cross into threads.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Checks `condition` until it holds; throws after `timeout` seconds. For conditions no
/// message announces (a row lock taken, a counter reached): the pause between checks is
/// a poll interval, not a wait for anything.
public func waitFor(_ what: String, timeout: Double, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try !condition() {
        guard Date() < deadline else { throw TestFailure("timed out after \(timeout)s waiting for \(what)") }
        usleep(20_000)
    }
}

/// A small seeded generator (SplitMix64), so a failing run can be repeated from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A number in `r` (modulo bias is no concern for tests).
    public mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
}
