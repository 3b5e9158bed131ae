#if canImport(Glibc)
import Glibc
#endif

// Owns: the identity of one server's loop thread, and the debug check every loop-thread
// method starts with. Thread: set by the loop thread when it starts; read only there.

/// The thread that runs a server's lws loop. Several servers may run in one process (tests
/// do), so each has its own.
final class LoopThread: @unchecked Sendable {
    #if DEBUG
    /// Written once, by the loop thread before it creates the lws context (so before any
    /// loop-thread method can run), then only read.
    private var owner: pthread_t?
    #endif

    /// The calling thread is the loop thread from now on.
    func enter() {
        #if DEBUG
        owner = pthread_self()
        #endif
    }

    #if DEBUG
    func check(_ function: StaticString, file: StaticString, line: UInt) {
        guard let owner, pthread_equal(owner, pthread_self()) != 0 else {
            preconditionFailure("\(function) runs on the loop thread only", file: file, line: line)
        }
    }
    #endif
}

/// A type whose methods run only on the loop thread (they touch lws, sessions or loop
/// state). Each such method starts with `assertOnLoop()`, which release builds compile away.
protocol LoopConfined {
    var loopThread: LoopThread { get }
}

extension LoopConfined {
    @inline(__always)
    func assertOnLoop(_ function: StaticString = #function, file: StaticString = #fileID, line: UInt = #line) {
        #if DEBUG
        loopThread.check(function, file: file, line: line)
        #endif
    }
}
