import Foundation
import SeatcastTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Children of the test helpers start with default signal handling, whatever the spawning
/// thread blocks: a tmux server that inherited blocked signals kept its pane alive after
/// `kill-server`, leaking a tmux and a `seatcast watch` per terminal test.
@Suite struct SubprocessSignalTests {
    /// A child spawned from a thread that blocks SIGHUP, SIGTERM and SIGINT has an empty signal mask.
    @Test func childStartsWithNoBlockedSignals() throws {
        var block = sigset_t()
        sigemptyset(&block)
        for s in [SIGHUP, SIGTERM, SIGINT] { sigaddset(&block, s) }
        var old = sigset_t()
        pthread_sigmask(SIG_BLOCK, &block, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        let r = try Subprocess.run(["sh", "-c", "grep SigBlk /proc/self/status"])
        #expect(r.status == 0)
        #expect(r.out.trimmingCharacters(in: .whitespacesAndNewlines) == "SigBlk:\t0000000000000000")
    }

    /// `tmux kill-server` ends the tmux server and its pane when tmux was started by Subprocess.
    @Test func tmuxKillServerLeavesNoProcess() throws {
        let name = "seatcast-sigtest-\(UInt32.random(in: 0...UInt32.max))"
        let tmux = ["tmux", "-L", name]
        _ = try TestDatabase.shell(tmux + ["new-session", "-d", "-s", "w", "sleep 600"])
        let pid = try TestDatabase.shell(tmux + ["display-message", "-p", "-t", "w", "#{pid}"])
        #expect(Int32(pid) != nil)
        _ = try TestDatabase.shell(tmux + ["kill-server"])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, let p = Int32(pid), kill(p, 0) == 0 {
            usleep(20_000)
        }
        let alive = Int32(pid).map { kill($0, 0) == 0 } ?? false
        if alive { _ = try? TestDatabase.shell(["kill", "-9", pid]) }
        #expect(!alive, "the tmux server outlived kill-server")
    }
}
