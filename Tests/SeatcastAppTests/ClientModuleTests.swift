import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

@Suite(.timeLimit(.minutes(3)))
struct ClientModuleTests {
    /// The page's protocol client, Public/seatcast-client.js, passes its own tests under Node's test runner with a fake WebSocket and clock (Tests/browser/node/*.test.mjs): snapshots replace state, events apply in seq order, a gap resubscribes with since, a reconnect resumes with since on the backoff schedule, replies match requests by id, unknown messages are ignored. Fails (never skips) when node is missing.
    @Test func seatcastClientUnderNodeTest() throws {
        let root = TestDatabase.packageRoot
        let dir = root + "/Tests/browser/node"
        guard let node = Self.findNode() else {
            Issue.record("node is not installed (no node or nodejs on PATH): the tests of Public/seatcast-client.js need it. Install it with `apt-get install -y nodejs` (`scripts/deps.sh test`, run by `make test`, does).")
            return
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasSuffix(".test.mjs") }.sorted().map { dir + "/" + $0 }
        try #require(!files.isEmpty, "no *.test.mjs files in \(dir)")
        var env = ProcessInfo.processInfo.environment
        env["NODE_OPTIONS"] = nil
        env["NO_COLOR"] = "1"
        // TAP: the same summary lines on every Node version since 18.
        let r = try Subprocess.run([node, "--test", "--test-reporter=tap"] + files, environment: env, timeout: 120)
        let summary = Self.summary(r.out)
        #expect(r.status == 0 && summary.fail == 0 && (summary.pass ?? 0) > 0, """
            \(node) --test exited \(r.status) (pass \(summary.pass.map(String.init) ?? "?"), fail \(summary.fail.map(String.init) ?? "?"))
            --- stdout
            \(r.out)
            --- stderr
            \(r.err)
            """)
    }

    /// The README's token example ("Put seatcast behind your site", Node with the standard library only) mints a token that `BuyerToken.verify` accepts with the same secret, with the claims it says, and refuses with another secret.
    @Test func readmeTokenExampleVerifies() throws {
        guard let node = Self.findNode() else {
            Issue.record("node is not installed (no node or nodejs on PATH)")
            return
        }
        let readme = try String(contentsOfFile: TestDatabase.packageRoot + "/README.md", encoding: .utf8)
        let section = try #require(readme.range(of: "## Put seatcast behind your site"), "no such README section")
        let rest = readme[section.upperBound...]
        let open = try #require(rest.range(of: "```js\n"), "no js example in the section")
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        let code = rest[open.upperBound..<close.lowerBound].split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let file = NSTemporaryDirectory() + "seatcast-readme-token-\(UInt32.random(in: 0...UInt32.max)).mjs"
        try code.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        var env = ProcessInfo.processInfo.environment
        env["SEATCAST_TOKEN_SECRET"] = "readme-secret"
        env["NODE_OPTIONS"] = nil
        let r = try Subprocess.run([node, file, "buyer-7"], environment: env, timeout: 30)
        #expect(r.status == 0, "\(r.err)")
        let token = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let now = Date().timeIntervalSince1970
        let claims = try BuyerToken.verify(token, secret: Array("readme-secret".utf8), now: now).get()
        #expect(claims.sub == "buyer-7")
        #expect(claims.trips == ["T1"])
        #expect(abs(claims.exp - (now + 900)) <= 5)
        #expect(throws: (any Error).self) { try BuyerToken.verify(token, secret: Array("other".utf8), now: now).get() }
    }

    /// The first `node` (or Debian's older name, `nodejs`) on PATH.
    static func findNode() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for name in ["node", "nodejs"] {
            for dir in path.split(separator: ":") where !dir.isEmpty {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// The `# pass N` and `# fail N` lines of a TAP report.
    static func summary(_ tap: String) -> (pass: Int?, fail: Int?) {
        var pass: Int?, fail: Int?
        for line in tap.split(separator: "\n") {
            if line.hasPrefix("# pass ") { pass = Int(line.dropFirst(7).trimmingCharacters(in: .whitespaces)) }
            if line.hasPrefix("# fail ") { fail = Int(line.dropFirst(7).trimmingCharacters(in: .whitespaces)) }
        }
        return (pass, fail)
    }
}
