import Foundation
import Testing

/// The module graph is what `Package.swift` says it is: each module imports exactly the modules it
/// declares (nothing reaches a module through another's `@_exported import`), the arrows point one
/// way, and the layers know only the engine.
@Suite struct ModuleGraphTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each `.target(name:dependencies:)` of Package.swift: the module and the modules it declares.
    static func declared() throws -> [String: Set<String>] {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let target = try Regex(#"\.target\(name: "(\w+)"(?:, dependencies: \[([^\]]*)\])?"#)
        let quoted = try Regex(#""(\w+)""#)
        var graph: [String: Set<String>] = [:]
        for match in manifest.matches(of: target) {
            guard let name = match.output[1].substring.map(String.init) else { continue }
            let list = match.output[2].substring.map(String.init) ?? ""
            graph[name] = Set(list.matches(of: quoted).compactMap { $0.output[1].substring.map(String.init) })
        }
        return graph
    }

    /// The graft modules and C shims each module's sources import.
    static func imported(by module: String) throws -> Set<String> {
        let folder = root.appendingPathComponent("Sources/\(module)")
        let files = FileManager.default.enumerator(atPath: folder.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        var modules: Set<String> = []
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains("@_exported"), "\(module)/\(file) re-exports a module: import it where it is used instead")
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
                guard words.count == 2, words[0] == "import" else { continue }
                let name = String(words[1])
                if name.hasPrefix("Graft") || name.hasPrefix("C") { modules.insert(name) }
            }
        }
        return modules
    }

    @Test func everyModuleImportsWhatItDeclaresAndNothingElse() throws {
        let graph = try Self.declared()
        let modules = ["GraftTensor", "GraftNN", "GraftData", "GraftFormats", "GraftTraining", "GraftModels", "GraftShell"]
        for module in modules {
            let declared = try #require(graph[module], "Package.swift declares no target \(module)")
            let imported = try Self.imported(by: module)
            #expect(imported == declared.filter { $0.hasPrefix("Graft") || $0.hasPrefix("C") },
                    "\(module) imports \(imported.sorted()) but Package.swift declares \(declared.sorted())")
        }
    }

    @Test func theLayersKnowOnlyTheEngineAndTheArrowsPointOneWay() throws {
        let graph = try Self.declared()
        #expect(graph["GraftNN"] == ["GraftTensor"])
        #expect(graph["GraftTensor"]?.contains(where: { $0.hasPrefix("Graft") && $0 != "GraftWideKernels" }) == false)
        // No cycles: a depth-first walk never meets a module on its own path.
        func walk(_ module: String, path: [String]) {
            #expect(!path.contains(module), "a cycle: \((path + [module]).joined(separator: " → "))")
            guard !path.contains(module) else { return }
            for next in graph[module] ?? [] { walk(next, path: path + [module]) }
        }
        for module in graph.keys { walk(module, path: []) }
        // Training sits above the layers and the data, which know nothing of each other.
        #expect(graph["GraftTraining"]?.isSuperset(of: ["GraftNN", "GraftData"]) == true)
        #expect(graph["GraftData"]?.contains("GraftNN") == false)
    }
}
