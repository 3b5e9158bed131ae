import Foundation
import SeatcastTesting
import Testing

/// Runs one of the python browser tests in Tests/browser (`script`, e.g. "page_test.py") against
/// `server` with `arguments` (after --url; --artifacts is added) and expects it to exit 0 and print
/// "<name>: ok". Returns its stdout. It needs chromium, chromium-driver and python3-selenium;
/// screenshots and console logs of a failure go to .build/browser-artifacts.
@discardableResult
func runBrowserScript(_ script: String, server: any RunningServer, _ arguments: [String], timeout: Double) throws -> String {
    let root = TestDatabase.packageRoot
    let artifacts = root + "/.build/browser-artifacts"
    // Debian's python3-selenium belongs to /usr/bin/python3 (not a pyenv python3 on PATH).
    var env = ProcessInfo.processInfo.environment
    env["PYTHONPATH"] = nil
    env["PYTHONHOME"] = nil
    let r = try Subprocess.run(
        ["/usr/bin/python3", root + "/Tests/browser/" + script, "--url", "http://127.0.0.1:\(server.port)"]
            + arguments + ["--artifacts", artifacts],
        environment: env, timeout: timeout)
    #expect(r.status == 0, """
        \(script) exited \(r.status) (needs: apt-get install -y chromium chromium-driver python3-selenium; \
        screenshots and console logs in \(artifacts))
        --- stdout
        \(r.out)
        --- stderr
        \(r.err)
        """)
    let name = script.hasSuffix(".py") ? String(script.dropLast(3)) : script
    #expect(r.out.contains("\(name): ok"))
    return r.out
}
