import Foundation
import Testing
@testable import GraftShell

@Suite("Lexer, command table and parser")
struct ParserTests {
    let parser = CommandParser(CommandTable.all)

    func error(_ line: String) -> ShellError? {
        do { _ = try parser.parse(line); return nil } catch { return error }
    }

    @Test func tokens() throws {
        let tokens = try Lexer.tokens(#"data images "my photos/set 1" size=64 as pets  # a comment"#)
        #expect(tokens.map(\.kind) == [.word("data"), .word("images"), .word("my photos/set 1"), .option(key: "size", value: "64"),
                                       .word("as"), .word("pets")])
        #expect(tokens[2].column == 12 && tokens[2].width == 17)
        #expect(try Lexer.tokens(#"load 'it''s.safetensors'"#).map(\.kind) == [.word("load"), .word("its.safetensors")])
        #expect(try Lexer.tokens(#"x name="a \"b\" c" path='a\b'"#).map(\.kind) == [.word("x"), .option(key: "name", value: #"a "b" c"#), .option(key: "path", value: #"a\b"#)])
        #expect(try Lexer.tokens("   # only a comment").isEmpty)
        #expect(try Lexer.tokens("freeze type=BatchNorm last=2").count == 3)
        let unterminated = error(#"load "Examples/half"#)
        #expect(unterminated?.message == "unterminated quote" && unterminated?.column == 5)
    }

    @Test func everyCommandsExampleParsesAndItsHelpNamesEveryOption() throws {
        for spec in CommandTable.all {
            let parsed = try parser.parse(spec.example)
            #expect(parsed?.spec.name == spec.name, "example of '\(spec.name)' parses as another command")
            for option in spec.options { #expect(spec.help.contains("\(option.name)=")) }
            #expect(!spec.summary.isEmpty)
        }
        let names = CommandTable.all.map(\.name)
        #expect(Set(names).count == names.count, "each command is declared once")
        // The contract of DESIGN.md.
        for name in ["help", "models", "use", "new", "load", "summary", "show", "freeze", "unfreeze", "head", "data mnist", "data images",
                     "data info", "train", "eval", "predict", "save model", "save session", "replay", "seed", "set", "history", "quit"] {
            #expect(names.contains(name), "missing command \(name)")
        }
    }

    @Test func usageAndHelpComeFromTheDeclaration() throws {
        let train = try #require(CommandTable.all.first { $0.name == "train" })
        #expect(train.usage.hasPrefix("train [dry-run] [epochs=N] [lr=X] [batch=N] [optimizer=sgd|adam|adamw|rmsprop]"))
        #expect(train.help.contains("\n  epochs=N   "))
        #expect(train.help.contains("  passes over the training split (default 5) [1–10000]\n"))
        #expect(train.help.hasSuffix("example: train epochs=5 lr=0.01 batch=64"))
        let eval = try #require(CommandTable.all.first { $0.name == "eval" })
        #expect(eval.usage == "eval [confusion] [on=NAME] [split=test|val|train] [top=N] [losses=N] [classes=names|index]")
    }

    @Test func longestCommandWinsAndArgumentsLandInPlace() throws {
        let save = try #require(try parser.parse("save model out/m.safetensors"))
        #expect(save.spec.name == "save model" && save.argument("path") == "out/m.safetensors")
        let session = try #require(try parser.parse("save session quick"))
        #expect(session.spec.name == "save session")
        let new = try #require(try parser.parse("new resnet18 as r classes=10 input=3x64x64"))
        #expect(new.name == "r" && new.int("classes") == 10 && new.shape("input") == [3, 64, 64])
        let freeze = try #require(try parser.parse("freeze layer1 layer2.* type=BatchNorm last=2"))
        #expect(freeze.arguments["selectors"] == ["layer1", "layer2.*", "type=BatchNorm", "last=2"])
        let eval = try #require(try parser.parse("eval confusion top=5"))
        #expect(eval.has("confusion") && eval.int("top") == 5)
        let head = try #require(try parser.parse("head classes=3 hidden=256,64 dropout=0.5"))
        #expect(head.intList("hidden") == [256, 64] && head.float("dropout") == 0.5)
        #expect(try parser.parse("") == nil && parser.parse("  # nothing") == nil)
    }

    @Test func errorsSuggestAndPointAtTheToken() {
        #expect(error("frezee all")?.message == "unknown command 'frezee'; did you mean 'freeze'?")
        #expect(error("frezee all")?.column == 0 && error("frezee all")?.width == 6)
        #expect(error("train epocs=5")?.message == "unknown option 'epocs' for 'train'; did you mean 'epochs='?")
        #expect(error("train epocs=5")?.column == 6)
        #expect(error("save modle x")?.message == "unknown 'save modle'; did you mean 'save model'?")
        #expect(error("data")?.message == "'data' needs one of: mnist, images, csv, npy, info")
        #expect(error("train epochs=0")?.message == "epochs must be in 1–10000, got 0")
        #expect(error("train epochs=0")?.column == 13)
        #expect(error("train epochs=five")?.message == "epochs must be a whole number, got 'five'")
        #expect(error("train lr=-1")?.message == "lr must be in 1e-08–10, got -1")
        #expect(error("train optimizer=adma")?.message == "optimizer must be one of sgd, adam, adamw, rmsprop, got 'adma'; did you mean 'adam'?")
        #expect(error("head hidden=256,x")?.message == "hidden must be positive whole numbers separated by commas, got '256,x'")
        #expect(error("new resnet18 input=3x64")?.message == "input must be CxHxW like 3x224x224, got '3x64'")
        #expect(error("train epochs=2 epochs=3")?.message == "option 'epochs' given twice")
        #expect(error("new")?.message == "'new' needs ARCH (usage: new ARCH [as NAME] [classes=N] [input=CxHxW] [width=X])")
        #expect(error("eval confusoin")?.message == "unexpected 'confusoin' for 'eval'; did you mean 'confusion'?")
        #expect(error("new resnet18 as")?.message == "'as' needs a name after it")
        #expect(error("=5")?.message == "unknown command '=5' (type 'help' for the list)")
        #expect(error("lr=5")?.message == "a command starts with a word, not an option")
        #expect(error("quit now")?.message.hasPrefix("unexpected 'now' for 'quit'") == true)
    }
}
