// Owns: whether the server still takes reserve/confirm/release commands, and how many it
// handed to the store without an answer yet (shutdown waits for them). Thread: loop.

/// The gate commands pass on their way to the store, from WebSocket and HTTP alike. It
/// closes when the server starts stopping; commands already through are waited for.
final class CommandGate: LoopConfined {
    let loopThread: LoopThread
    /// The server is stopping: new commands are answered `unavailable`.
    private(set) var isClosed = false
    /// Commands handed to the store and not answered yet.
    private(set) var inFlight = 0

    init(loopThread: LoopThread) {
        self.loopThread = loopThread
    }

    /// A command may go to the store (it is counted until `answered`); false once closed.
    func admit() -> Bool {
        assertOnLoop()
        guard !isClosed else { return false }
        inFlight += 1
        return true
    }

    /// The answer to an admitted command arrived.
    func answered() {
        assertOnLoop()
        inFlight -= 1
    }

    func close() {
        assertOnLoop()
        isClosed = true
    }
}
