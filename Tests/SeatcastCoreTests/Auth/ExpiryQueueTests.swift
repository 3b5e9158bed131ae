import Testing
@testable import SeatcastCore

@Suite("ExpiryQueue")
struct ExpiryQueueTests {
    /// Keys come out once their deadline has passed (strictly), earliest first; later ones stay.
    @Test func popsInOrder() {
        var q = ExpiryQueue<Int>()
        q.schedule(3, at: 30)
        q.schedule(1, at: 10)
        q.schedule(2, at: 20)
        #expect(q.earliest() == 10)
        #expect(q.popExpired(now: 10).isEmpty)
        #expect(q.popExpired(now: 25) == [1, 2])
        #expect(q.count == 1)
        #expect(q.popExpired(now: 100) == [3])
        #expect(q.isEmpty)
        #expect(q.earliest() == nil)
    }

    /// A refresh replaces the deadline, later or earlier; the old entry never fires.
    @Test func rescheduleReplaces() {
        var q = ExpiryQueue<String>()
        q.schedule("a", at: 10)
        q.schedule("a", at: 50)
        #expect(q.popExpired(now: 20).isEmpty)
        #expect(q.deadline(of: "a") == 50)
        q.schedule("a", at: 5)
        #expect(q.earliest() == 5)
        #expect(q.popExpired(now: 6) == ["a"])
        #expect(q.popExpired(now: 100).isEmpty)
    }

    /// A removed key never comes out; removing an unknown key is nothing.
    @Test func removeForgets() {
        var q = ExpiryQueue<Int>()
        q.schedule(1, at: 10)
        q.schedule(2, at: 11)
        q.remove(1)
        q.remove(99)
        #expect(q.earliest() == 11)
        #expect(q.popExpired(now: 100) == [2])
    }

    /// Scheduling the same deadline twice yields the key once.
    @Test func sameDeadlineTwice() {
        var q = ExpiryQueue<Int>()
        q.schedule(1, at: 10)
        q.schedule(1, at: 10)
        #expect(q.popExpired(now: 11) == [1])
        #expect(q.storedEntries == 0)
    }

    /// Many refreshes do not grow the heap without bound: stale entries are compacted away.
    @Test func staleEntriesAreCompacted() {
        var q = ExpiryQueue<Int>()
        for k in 0..<10 { q.schedule(k, at: 1000) }
        for round in 0..<1000 { q.schedule(round % 10, at: 1000 + Double(round)) }
        #expect(q.count == 10)
        #expect(q.storedEntries <= 2 * 10 + 64 + 1)
        #expect(Set(q.popExpired(now: 10_000)) == Set(0..<10))
    }

    /// Against a simple model: random schedules, removals and pops agree with a dictionary.
    @Test func matchesModel() {
        var q = ExpiryQueue<Int>()
        var model: [Int: Double] = [:]
        var rng = SystemRandomNumberGenerator()
        var now = 0.0
        for _ in 0..<1500 {
            let k = Int.random(in: 0..<50, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                let d = now + Double.random(in: 0..<100, using: &rng)
                q.schedule(k, at: d)
                model[k] = d
            case 5..<7:
                q.remove(k)
                model[k] = nil
            default:
                now += Double.random(in: 0..<20, using: &rng)
                let due = model.filter { $0.value < now }.sorted { $0.value < $1.value }
                let got = q.popExpired(now: now)
                #expect(Set(got) == Set(due.map(\.key)))
                #expect(got.map { model[$0]! } == got.map { model[$0]! }.sorted())
                for k in got { model[k] = nil }
            }
            #expect(q.count == model.count)
            #expect(q.earliest() == model.values.min())
        }
    }
}
