import Dispatch
import Foundation

/// Waits for SIGINT or SIGTERM on the calling thread.
public enum Signals {
    public static func waitForTermination() -> Int32 {
        let received = DispatchSemaphore(value: 0)
        let which = LockedBox<Int32>(0)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            src.setEventHandler(handler: { @Sendable in
                which.set(sig)
                received.signal()
            })
            src.resume()
            sources.append(src)
        }
        received.wait()
        for s in sources { s.cancel() }
        return which.get()
    }
}

final class LockedBox<T: Sendable>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ v: T) { value = v }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
}
