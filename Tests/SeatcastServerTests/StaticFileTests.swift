import Foundation
import SeatcastTesting
import Testing

/// A throwaway public folder with links planted in it, and a secret next to it.
final class PlantedPublicDir {
    let base: String
    var publicDir: String { base + "/public" }

    init() throws {
        base = FileManager.default.temporaryDirectory.path + "/seatcast-static-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: base + "/public/sub", withIntermediateDirectories: true)
        try "<html>home</html>".write(toFile: base + "/public/index.html", atomically: true, encoding: .utf8)
        try "body{color:red}".write(toFile: base + "/public/a.css", atomically: true, encoding: .utf8)
        try "<html>sub</html>".write(toFile: base + "/public/sub/index.html", atomically: true, encoding: .utf8)
        try "TOP SECRET".write(toFile: base + "/secret.txt", atomically: true, encoding: .utf8)
        // Out of the folder.
        try fm.createSymbolicLink(atPath: base + "/public/passwd", withDestinationPath: "/etc/passwd")
        try fm.createSymbolicLink(atPath: base + "/public/up", withDestinationPath: "..")
        try fm.createSymbolicLink(atPath: base + "/public/root", withDestinationPath: "/")
        try fm.createSymbolicLink(atPath: base + "/public/secret.txt", withDestinationPath: base + "/secret.txt")
        // Staying inside it.
        try fm.createSymbolicLink(atPath: base + "/public/alias.css", withDestinationPath: "a.css")
        try fm.createSymbolicLink(atPath: base + "/public/inside", withDestinationPath: "sub")
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }
}

@Suite(.timeLimit(.minutes(1)))
struct StaticFileTests {
    /// Symlinks that lead out of the public folder (to /etc/passwd, to .., to /, to a file beside it) get 404 and leak nothing.
    @Test func linksOutOfThePublicFolderAre404() throws {
        let dir = try PlantedPublicDir()
        let server = try TestServer { $0.publicDir = dir.publicDir }
        defer { server.stop() }
        for path in ["/passwd", "/up/secret.txt", "/up/", "/up", "/root/etc/passwd", "/root/", "/secret.txt"] {
            let r = try server.http("GET", path)
            #expect(r.status == 404, "\(path) -> \(r.status)")
            #expect(!r.body.contains("root:") && !r.body.contains("TOP SECRET"), "\(path) leaked")
        }
    }

    /// Ordinary files and index.html are served, and a symlink that stays inside the folder is served like its target.
    @Test func filesInsideAreServed() throws {
        let dir = try PlantedPublicDir()
        let server = try TestServer { $0.publicDir = dir.publicDir }
        defer { server.stop() }
        let home = try server.http("GET", "/")
        #expect(home.status == 200 && home.body == "<html>home</html>")
        #expect(try server.http("GET", "/index.html").body == "<html>home</html>")
        let css = try server.http("GET", "/a.css")
        #expect(css.status == 200 && css.body == "body{color:red}")
        #expect(try server.http("GET", "/sub/").body == "<html>sub</html>")
        #expect(try server.http("GET", "/sub").body == "<html>sub</html>")
        // Inside links: served (the rule is where the real path lies, not whether a link was followed).
        #expect(try server.http("GET", "/alias.css").body == "body{color:red}")
        #expect(try server.http("GET", "/inside/index.html").body == "<html>sub</html>")
        #expect(try server.http("GET", "/missing.txt").status == 404)
        #expect(try server.http("GET", "/a.css/").status == 404)
    }

    /// Bytes a client sends while a large answer is still flushing do not cut the answer short: all of it arrives, then a clean EOF (no reset).
    @Test func inputDuringALargeAnswer() throws {
        let dir = try PlantedPublicDir()
        let size = 3_000_000
        let big = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        try Data(big).write(to: URL(fileURLWithPath: dir.publicDir + "/big.bin"))
        let server = try TestServer { $0.publicDir = dir.publicDir }
        defer { server.stop() }
        let x = try RawHTTP.exchange(port: server.port, RawHTTP.get("/big.bin"), timeout: 30, receiveBuffer: 4096,
                                     later: RawHTTP.get("/index.html"))
        let (reset, closed, received) = (x.reset, x.closed, x.bytes.count)
        #expect(!reset, "reset after \(received) bytes")
        #expect(closed)
        let r = x.responses().first
        #expect(r?.status == 200)
        #expect(r?.body.count == size)
        let intact = r?.body == big
        #expect(intact)
    }

    /// Static answers carry the content type, an ETag and the cache policy; a matching If-None-Match gets 304.
    @Test func typesAndRevalidation() throws {
        let server = try TestServer()
        defer { server.stop() }
        let types = ["/": "text/html", "/style.css": "text/css", "/app.js": "text/javascript"]
        for (path, type) in types {
            let x = try RawHTTP.exchange(port: server.port, RawHTTP.get(path), timeout: 5) { !$0.responses().isEmpty }
            let r = x.responses().first
            #expect(r?.status == 200, "\(path)")
            #expect(r?.header("content-type")?.hasPrefix(type) == true, "\(path): \(r?.header("content-type") ?? "none")")
            #expect(r?.header("cache-control") == "must-revalidate, private, max-age=60", "\(path)")
        }
        let first = try RawHTTP.exchange(port: server.port, RawHTTP.get("/style.css"), timeout: 5) { !$0.responses().isEmpty }
        let etag = try #require(first.responses().first?.header("etag"))
        let again = try RawHTTP.exchange(port: server.port, RawHTTP.get("/style.css", headers: ["If-None-Match": etag]), timeout: 5) {
            !$0.responses().isEmpty
        }
        #expect(again.responses().first?.status == 304)
        #expect(again.responses().first?.body.isEmpty == true)
    }
}
