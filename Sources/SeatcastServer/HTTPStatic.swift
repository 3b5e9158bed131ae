import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The files under the public folder. Served by seatcast rather than an lws file mount:
/// the mount follows symlinks out of the folder, and answers built by lws land in its
/// shared buffer over pipelined bytes (see HTTPHandler.swift).
///
/// The rule: a URL path names the file whose *real* path (every symlink resolved) lies
/// inside the real path of the public folder. A link that stays inside is served like
/// its target; one that leads out (to /etc/passwd, to .., to /) is 404, as is anything
/// that is not a regular file. A directory serves its index.html.
enum StaticFiles {
    /// Larger files are refused: an answer is held in memory until sent (the page needs
    /// well under 1 MiB).
    static let maxBytes = 4 << 20

    enum Outcome: Equatable {
        case file(bytes: [UInt8], contentType: String, etag: String)
        case notFound
        case tooLarge
    }

    /// The path below the folder for a URL path ("" for the folder itself), or nil for one
    /// that can never name a file inside it (`..`, `.` or a NUL). lws has already
    /// percent-decoded the path and cut off the query. Pure.
    static func relativePath(_ urlPath: String) -> String? {
        guard !urlPath.utf8.contains(0) else { return nil }
        let parts = urlPath.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.contains(where: { $0 == ".." || $0 == "." }) else { return nil }
        return parts.joined(separator: "/") + (urlPath.hasSuffix("/") && !parts.isEmpty ? "/" : "")
    }

    /// Whether the real path `candidate` lies strictly below the real path `root`. Pure.
    static func isInside(_ candidate: String, root: String) -> Bool {
        let base = root.hasSuffix("/") ? root : root + "/"
        return candidate.hasPrefix(base) && candidate.count > base.count
    }

    /// The Content-Type for a file name, by extension. Pure.
    static func contentType(_ path: String) -> String {
        let ext = path.split(separator: "/").last.flatMap { name -> Substring? in
            guard let dot = name.lastIndex(of: ".") else { return nil }
            return name[name.index(after: dot)...]
        }.map { $0.lowercased() } ?? ""
        switch ext {
        case "html", "htm": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json", "map": return "application/json"
        case "txt": return "text/plain; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "ico": return "image/x-icon"
        case "woff": return "font/woff"
        case "woff2": return "font/woff2"
        case "wasm": return "application/wasm"
        default: return "application/octet-stream"
        }
    }

    /// A strong validator from size and modification time (what lws used, quoted as RFC 9110 8.8.3 asks). Pure.
    static func etag(size: Int, modifiedNanoseconds: Int) -> String {
        "\"\(String(size, radix: 16))-\(String(modifiedNanoseconds, radix: 16))\""
    }

    /// Whether an If-None-Match value matches `etag` (weak comparison, RFC 9110 13.1.2). Pure.
    static func ifNoneMatch(_ header: String, matches etag: String) -> Bool {
        let opaque = { (tag: Substring) -> Substring in
            let t = tag.trimmingCharacters(in: .whitespaces)
            return Substring(t.hasPrefix("W/") ? String(t.dropFirst(2)) : t)
        }
        let mine = opaque(Substring(etag))
        return header.split(separator: ",").contains { tag in
            let t = opaque(tag)
            return t == "*" || t == mine
        }
    }

    /// What `urlPath` names under `publicDir`. Loop thread (reads the file; the files are small).
    static func load(_ urlPath: String, publicDir: String) -> Outcome {
        guard let root = realPath(publicDir), let rel = relativePath(urlPath),
              var real = realPath(rel.isEmpty ? root : root + "/" + rel) else { return .notFound }
        var st = stat()
        guard real == root || isInside(real, root: root), stat(real, &st) == 0 else { return .notFound }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            // index.html may itself be a link: resolve and check it again.
            guard let index = realPath(real + "/index.html"), isInside(index, root: root), stat(index, &st) == 0 else {
                return .notFound
            }
            real = index
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .notFound }
        guard Int(st.st_size) <= maxBytes else { return .tooLarge }
        // O_NOFOLLOW: the real path has no links left; refuse one put in its place since.
        let fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return .notFound }
        defer { close(fd) }
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, Int(st.st_size) <= maxBytes else { return .notFound }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            got += n
        }
        // A file that shrank while being read is served as it was found (its etag says so).
        bytes.removeLast(bytes.count - got)
        let modified = Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec)
        return .file(bytes: bytes, contentType: contentType(real), etag: etag(size: got, modifiedNanoseconds: modified))
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
