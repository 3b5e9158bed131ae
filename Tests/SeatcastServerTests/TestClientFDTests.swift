import Foundation
import SeatcastTesting
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The test helpers' file descriptors are closed exactly once. A second close of a number
/// the kernel has meanwhile handed to another thread closes that thread's socket or pipe
/// (once it was glibc's netlink socket, and the test run aborted).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TestClientFDTests {
    /// Opens pipes in a loop on its own thread and checks that each end stays open until this
    /// thread closes it: a stray close from another thread that lands on a number it just
    /// got shows up as EBADF.
    final class Bystander: Sendable {
        private let running = Atomic<Bool>(true)
        private let done = DispatchSemaphore(value: 0)
        let rounds = Atomic<Int>(0)
        let strayCloses = Atomic<Int>(0)

        func start() {
            let t = Thread { [self] in
                var p: [Int32] = [-1, -1]
                var byte: UInt8 = 7
                while running.load(ordering: .relaxed) {
                    guard pipe(&p) == 0 else { continue }
                    let ok = write(p[1], &byte, 1) == 1 && read(p[0], &byte, 1) == 1
                    // close returns EBADF when someone else closed the number first.
                    let closedBoth = [close(p[0]) == 0, close(p[1]) == 0].allSatisfy { $0 }
                    if !ok || !closedBoth { strayCloses.add(1, ordering: .relaxed) }
                    rounds.add(1, ordering: .relaxed)
                }
                done.signal()
            }
            t.start()
            // Running before the clients start failing.
            while rounds.load(ordering: .relaxed) == 0 { sched_yield() }
        }

        func stop() {
            running.store(false, ordering: .relaxed)
            done.wait()
        }
    }

    /// WSClients whose connect is refused and whose upgrade is refused, created while another thread keeps opening pipes, never close that thread's pipes.
    @Test func failedClientsCloseTheirSocketOnce() throws {
        let server = try TestServer()
        defer { server.stop() }
        // Bound, not listening: connections to the port are refused while it stays open.
        let (refusing, port) = try OwnedFD.boundTCP()
        defer { refusing.close() }
        let bystander = Bystander()
        bystander.start()
        var refused = 0, upgradesRefused = 0, httpRefused = 0
        for i in 0..<6000 {
            // Mostly the cheap refused connect (many tries); now and then the real server's
            // refusal of an unknown path, and the HTTP helper's refused connect.
            if i % 20 == 0 {
                do { _ = try WSClient(port: server.port, path: "/nope") } catch { upgradesRefused += 1 }
            } else if i % 20 == 1 {
                do { _ = try HTTPClient.request(port: port, method: "GET", path: "/") } catch { httpRefused += 1 }
            } else {
                do { _ = try WSClient(port: port) } catch { refused += 1 }
            }
        }
        bystander.stop()
        #expect(refused == 5400)
        #expect(upgradesRefused == 300)
        #expect(httpRefused == 300)
        #expect(bystander.rounds.load(ordering: .relaxed) > 0)
        #expect(bystander.strayCloses.load(ordering: .relaxed) == 0, "a failed WSClient closed a descriptor it no longer owned")
    }

    /// OwnedFD closes once: a pipe that takes the freed number keeps it through a second close() and the owner's end.
    @Test func ownedFDClosesOnce() throws {
        var p: [Int32] = [-1, -1]
        var number: Int32 = -1
        do {
            let owned = OwnedFD(open("/dev/null", O_RDONLY | O_CLOEXEC))
            number = owned.raw
            #expect(owned.isOpen)
            owned.close()
            #expect(!owned.isOpen && owned.raw == -1)
            // The pipe takes the lowest free numbers, so most likely the one just freed.
            guard pipe(&p) == 0 else { throw TestFailure("pipe: errno \(errno)") }
            owned.close()
        } // the owner ends here
        defer { close(p[0]); close(p[1]) }
        #expect(number >= 0)
        #expect(fcntl(p[0], F_GETFD) != -1 && fcntl(p[1], F_GETFD) != -1, "\(number) was closed twice")
    }
}
