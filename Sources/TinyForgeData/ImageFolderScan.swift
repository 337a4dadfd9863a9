import Foundation

/// The files of an image folder, found without decoding anything: class names, and per split
/// the image files with their label, size and modification time (the cache fingerprint).
struct ImageFolderLayout {
    struct Entry {
        var path: String
        var relative: String
        var label: Int32
        var size: Int64
        var mtimeNanos: Int64
    }
    struct Split {
        var name: String
        var entries: [Entry]
    }
    var classes: [String]
    /// `train` first, then `val` and `test` when present.
    var splits: [Split]
}

/// Walks `DIR/<class>/...` or `DIR/{train,val,test}/<class>/...`. Class folders are sorted by
/// name (label = position, as Keras and torchvision do); inside a class, sub-folders are
/// walked too, following symbolic links but refusing a link that leads back to a folder
/// already on the path (a loop would never end). Hidden files and files that are not
/// `.png`/`.jpg`/`.jpeg` are ignored.
enum ImageFolderScanner {
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]
    static let splitNames = ["train", "val", "test"]

    static func scan(_ directory: String) throws -> ImageFolderLayout {
        guard isDirectory(directory) else {
            throw DataError.fileNotFound(path: directory, hint: "folder: needs a directory with one sub-folder of PNG/JPEG images per class.")
        }
        let top = try visibleEntries(directory)
        let dirs = top.filter { isDirectory(join(directory, $0)) }
        if let stray = top.first(where: { !dirs.contains($0) && isImageName($0) }) {
            throw DataError.imageFolder(path: join(directory, stray), reason: "image directly in the dataset folder; put every image into the sub-folder of its class (DIR/<class>/\(stray))")
        }
        guard dirs.contains("train") else {
            let classes = dirs.sorted()
            let split = try scanSplit(name: "train", root: directory, classDirs: classes, classes: classes)
            return try checked(ImageFolderLayout(classes: classes, splits: [split]), root: directory)
        }
        if let other = dirs.first(where: { !splitNames.contains($0) }) {
            throw DataError.imageFolder(path: join(directory, other), reason: "the folder has train/ (a split layout), so every sub-folder must be train, val or test; move '\(other)' into train/ if it is a class")
        }
        let trainRoot = join(directory, "train")
        let classes = try visibleEntries(trainRoot).filter { isDirectory(join(trainRoot, $0)) }.sorted()
        var splits = [try scanSplit(name: "train", root: trainRoot, classDirs: classes, classes: classes)]
        for name in ["val", "test"] where dirs.contains(name) {
            let root = join(directory, name)
            let sub = try visibleEntries(root).filter { isDirectory(join(root, $0)) }.sorted()
            if let unknown = sub.first(where: { !classes.contains($0) }) {
                throw DataError.imageFolder(path: join(root, unknown), reason: "class '\(unknown)' is not among the training classes (\(classes.joined(separator: ", "))); every \(name)/ class needs a train/ folder")
            }
            splits.append(try scanSplit(name: name, root: root, classDirs: sub, classes: classes))
        }
        return try checked(ImageFolderLayout(classes: classes, splits: splits), root: trainRoot)
    }

    /// At least two classes, each with training images.
    static func checked(_ layout: ImageFolderLayout, root: String) throws -> ImageFolderLayout {
        let train = layout.splits[0]
        guard !layout.classes.isEmpty else {
            throw DataError.imageFolder(path: root, reason: "no class sub-folders; expected \(root)/<class name>/<image>.png|.jpg")
        }
        guard layout.classes.count >= 2 else {
            throw DataError.imageFolder(path: root, reason: "only one class folder ('\(layout.classes[0])'); a classifier needs at least two classes, one sub-folder each")
        }
        var counts = [Int](repeating: 0, count: layout.classes.count)
        for e in train.entries { counts[Int(e.label)] += 1 }
        if let empty = counts.firstIndex(of: 0) {
            throw DataError.imageFolder(path: join(root, layout.classes[empty]), reason: "class folder has no .png/.jpg/.jpeg images; add images or remove the folder")
        }
        return layout
    }

    static func scanSplit(name: String, root: String, classDirs: [String], classes: [String]) throws -> ImageFolderLayout.Split {
        var entries = [ImageFolderLayout.Entry]()
        for dir in classDirs {
            let label = Int32(classes.firstIndex(of: dir)!)
            var found = [ImageFolderLayout.Entry]()
            try walk(join(root, dir), relative: "\(name)/\(dir)", label: label, ancestors: [], into: &found)
            if found.isEmpty && name != "train" {
                throw DataError.imageFolder(path: join(root, dir), reason: "class folder has no .png/.jpg/.jpeg images; add images or remove the folder")
            }
            entries += found.sorted { $0.relative < $1.relative }
        }
        return ImageFolderLayout.Split(name: name, entries: entries)
    }

    /// Recursive walk; `ancestors` are the real paths of the folders on the current path.
    static func walk(_ dir: String, relative: String, label: Int32, ancestors: Set<String>,
                     into out: inout [ImageFolderLayout.Entry]) throws {
        let real = realPath(dir)
        if ancestors.contains(real) {
            throw DataError.imageFolder(path: dir, reason: "symbolic link loop: this folder leads back to \(real), which contains it; remove the link")
        }
        let inside = ancestors.union([real])
        for name in try visibleEntries(dir) {
            let path = join(dir, name)
            var st = stat()
            guard stat(path, &st) == 0 else {
                if errno == ELOOP {
                    throw DataError.imageFolder(path: path, reason: "symbolic link loop (the link points to itself, directly or through other links); remove it")
                }
                continue  // a dangling link or a file removed meanwhile: not an image to read
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                try walk(path, relative: relative + "/" + name, label: label, ancestors: inside, into: &out)
            } else if (st.st_mode & S_IFMT) == S_IFREG && isImageName(name) {
                let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
                out.append(.init(path: path, relative: relative + "/" + name, label: label, size: Int64(st.st_size), mtimeNanos: mtime))
            }
        }
    }

    static func visibleEntries(_ dir: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw DataError.imageFolder(path: dir, reason: "cannot list the folder (\((error as NSError).localizedDescription))")
        }
    }

    static func isImageName(_ name: String) -> Bool {
        imageExtensions.contains((name as NSString).pathExtension.lowercased())
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func realPath(_ path: String) -> String {
        guard let p = realpath(path, nil) else { return path }
        defer { free(p) }
        return String(cString: p)
    }

    static func join(_ a: String, _ b: String) -> String { (a as NSString).appendingPathComponent(b) }
}
