import Foundation
import GraftTraining
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftData
import GraftNN
import GraftTensor

/// Issue 25: text from a file never reaches generated Python, Markdown or the terminal except
/// through that sink's one escaping function. (`scripts/check-pytorch-export.sh` imports such an
/// export in Python and checks that nothing ran and the names survive exactly.)
@Suite("Hostile names in generated files")
struct HostileExportTests {
    /// Every kind of text that breaks out of a Python string, comment or docstring, or Markdown.
    static let hostile = [
        #"k""";__import__("os").system("touch PWNED5");""""#, "'''x''';__import__('os')", #"back\slash\"#, "line\nbreak", "cr\r\nlf",
        "# comment", "nul\u{0}byte", "\u{202E}evil\u{202C}", "para\u{2028}graph\u{2029}", "next\u{85}line", "esc\u{1B}[2J", "del\u{7F}",
        "```\n<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "[link](javascript:alert(1))", "![img](x)", "a | b", "*em* _u_",
    ]

    /// A model and a dataset whose every string holds hostile text: name, architecture, layer names, class names, dataset name.
    static func hostileProject() throws -> (Model, Dataset) {
        var builder = try GraphBuilder(inputShape: [4])
        try builder.add(try Dense(4, 6, generator: Generator(seed: 3)), name: hostile[0])
        try builder.add(Activation(.relu), name: hostile[3])
        try builder.add(try Dense(6, hostile.count, generator: Generator(seed: 4)), name: hostile[1] + ".fc", head: true)
        let model = builder.build(name: hostile[2] + hostile[0], architecture: hostile[12], classNames: hostile)
        let samples = Samples(sampleShape: [4], labels: (0..<hostile.count).map { $0 }, floats: (0..<(4 * hostile.count)).map { Float($0 % 7) / 7 })
        return (model, Dataset(name: hostile[6] + hostile[13], classNames: hostile, train: samples, test: samples))
    }

    @Test func generatedPythonAndMarkdownCarryNoRawFileText() throws {
        let (model, data) = try Self.hostileProject()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-hostile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let recipe = TrainingRecipe(command: "train on=\(Self.hostile[0])", dataset: data.name, phases: [TrainingPhase(options: TrainingOptions(), model: model)])
        _ = try PyTorchProject(model: model, recipe: recipe, dataset: data, seed: 1, graftVersion: "0.2.0").write(to: folder.path)
        for name in ["model.py", "train.py"] {
            let source = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            // The payloads only ever appear escaped (their quotes as \"), never as code.
            #expect(!source.contains(#"__import__("os")"#) && !source.contains("__import__('os')"), "\(name) carries the payload raw")
            #expect(!source.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || [0x2028, 0x2029, 0x202E, 0x202C].contains($0.value) },
                    "\(name) holds a raw control or separator")
            // Every docstring graft writes opens and closes on graft's own lines: an even count, none inside names.
            #expect(source.components(separatedBy: #"""""#).count % 2 == 1, "\(name): unbalanced docstrings")
            for h in Self.hostile { #expect(source.contains(Py.string(h)) || !source.contains(h) || h.count < 4, "\(name): \(h.debugDescription) appears raw") }
        }
        // Outside its code spans (where Markdown shows text as it is), the README holds no live markup.
        var readme = try String(contentsOf: folder.appendingPathComponent("README.md"), encoding: .utf8)
        for span in [Markdown.code(recipe.command), Markdown.code(data.name)] {
            #expect(readme.contains(span))
            readme = readme.replacingOccurrences(of: span, with: "CODE")
        }
        #expect(!readme.contains("<img") && !readme.contains("<script") && !readme.contains("](javascript") && !readme.contains("\u{0}"), "\(readme.prefix(600))")
        #expect(!readme.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || [0x2028, 0x202E].contains($0.value) })
        let model2 = try String(contentsOf: folder.appendingPathComponent("model.py"), encoding: .utf8)
        #expect(model2.contains("NAME = " + Py.string(model.name)) && model2.contains("CLASSES = [" + Self.hostile.map(Py.string).joined(separator: ", ") + "]"))
    }

    /// The escaping functions themselves, with quotes, backticks, newlines and controls.
    @Test func theEscapingFunctions() {
        #expect(Py.string(#"a"b\c"#) == #""a\"b\\c""#)
        #expect(Py.string("x\ny\u{0}\u{1B}\u{7F}\u{85}") == #""x\ny\x00\x1b\x7f\x85""#)
        #expect(Py.string("\u{202E}\u{2028}é✓") == #""\u202e\u2028é✓""#)
        #expect(Markdown.code("a`b") == "``a`b``" && Markdown.code("`x") == "`` `x ``" && Markdown.code("two\nlines") == #"`two\x0alines`"#)
        #expect(Markdown.codeBlock("x\n```\ny", info: "text") == "````text\nx\n```\ny\n````")
        #expect(Markdown.text("<img src=x> & *b* [l](u) #") == ##"&lt;img src=x&gt; &amp; \*b\* \[l\]\(u\) \#"##)
        #expect(Markdown.text("a\nb\u{202E}") == #"a\\x0ab\\u202e"#)
        #expect(Markdown.destination("a b/<x>\n.png") == "<a b/%3Cx%3E%0A.png>")
    }
}
