import Foundation
import Testing
@testable import GraftFormats
@testable import GraftModels

/// Every file of the hostile corpus (Tests/Fixtures/malformed, made by make_malformed.py there) is
/// refused with its own error: nothing crashes, nothing is executed, nothing else is read.
@Suite("Malformed and malicious files")
struct MalformedTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/malformed").standardized

    static let expectations: [(String, String)] = [
        ("evil_os_system.pth", "refusing to load PATH: pickle global 'posix.system' is not allowed"),
        ("evil_eval.pth", "refusing to load PATH: pickle global 'builtins.eval' is not allowed"),
        ("legacy_truncated.pth", "cannot load PATH: pytorch: PATH offset 308: storage 0 claims 2 elements, more than the file holds"),
        ("legacy_lying_count.pth", "cannot load PATH: pytorch: PATH offset 308: storage 0 claims 1099511627776 elements, more than the file holds"),
        ("not_a_checkpoint.pth", "cannot load PATH: pytorch: PATH: neither a zip archive nor a legacy torch.save stream (wrong magic bytes)"),
        ("zip_dotdot.pth", "cannot load PATH: zip: PATH entry '../../etc/passwd': unsafe name"),
        ("st_truncated.safetensors", "cannot load PATH: safetensors: PATH tensor 'a': data ends at 16, file has 10 bytes of data"),
        ("st_header_too_large.safetensors", "cannot load PATH: safetensors: PATH header of 1099511627776 bytes exceeds the limit of 104857600 bytes"),
        ("st_overlap.safetensors", "cannot load PATH: safetensors: PATH tensor 'b': data overlaps the previous tensor's"),
        ("st_gap.safetensors", "cannot load PATH: safetensors: PATH tensor 'a': gap of 8 bytes before its data"),
        ("st_trailing.safetensors", "cannot load PATH: safetensors: PATH data: 8 bytes after the last tensor"),
        ("st_bad_dtype.safetensors", "cannot load PATH: safetensors: unsupported dtype C64 of tensor 'a' in PATH"),
        ("st_huge_dims.safetensors", "cannot load PATH: safetensors: tensor 'a' of shape [2147483648, 2147483648] exceeds the limit of 2^32 elements"),
        ("st_wrong_size.safetensors", "cannot load PATH: safetensors: PATH tensor 'a': data_offsets span 16 bytes, shape [3] of F32 needs 12"),
        ("st_not_json.safetensors", "cannot load PATH: safetensors: PATH header: header is not valid JSON"),
        ("st_deep_rank.safetensors", "cannot load PATH: safetensors: PATH tensor 'a': rank 40 is above 32"),
        ("keras_no_config.keras", "cannot load PATH: keras: PATH: no config.json in the archive (not a Keras 3 .keras file)"),
        ("keras_no_weights.keras", "cannot load PATH: keras: PATH: no model.weights.h5 in the archive"),
        ("keras_unknown_class.keras", "cannot load PATH: layer 'fancy' of class FancyLayer is not supported"),
        ("keras_missing_variables.keras", "cannot load PATH: layer 'conv' (Conv2D) has no weights in the file (expected kernel, bias)"),
        ("keras_bomb.keras", "cannot load PATH: zip: entry 'config.json' of 268435456 bytes exceeds the limit of 67108864 bytes"),
        // Issue 25: giants refused before anything is built, names that would escape the folder,
        // a repeated entry, a million layers, 1,000 levels of nesting, calls that loop.
        ("keras_dense_1e9.keras", "cannot load PATH: layer 'huge' (Dense) has no weights in the file (expected kernel, bias)"),
        ("keras_conv_1e8.keras", "cannot load PATH: layer 'wide' (Conv2D) has no weights in the file (expected kernel, bias)"),
        ("keras_dotdot_entry.keras", "cannot load PATH: zip: PATH entry '../escaped.h5': unsafe name"),
        ("keras_absolute_entry.keras", "cannot load PATH: zip: PATH entry '/tmp/escaped.h5': unsafe name"),
        ("keras_duplicate_entry.keras", "cannot load PATH: zip: PATH central directory: duplicate entry names"),
        ("keras_million_layers.keras", "cannot load PATH: PATH: more than 10,000 layers"),
        ("keras_nested_1000.keras", "cannot load PATH: keras: PATH config.json: nested 257+ levels deep, more than graft reads (256): a model of models that deep is not one graft opens"),
        ("keras_cycle.keras", "cannot load PATH: layer 'a' reads 'b', which is not defined before it"),
        ("keras_self_loop.keras", "cannot load PATH: layer 'a' reads 'a', which is not defined before it"),
        // 64-bit arithmetic on numbers from the file (these trapped before).
        ("pth_storage_overflow.pth", "cannot load PATH: pytorch: PATH tensor 'w': storage of 4611686018427387904 elements overflows"),
        ("pth_offset_overflow.pth", "cannot load PATH: pytorch: PATH tensor 'w': offset 4611686018427387904 and strides [4611686018427387904] overflow"),
        ("pth_size1_huge_stride.pth", "cannot load PATH: its keys match no built-in architecture; say which with arch=NAME"),
        ("legacy_cursor_overflow.pth", "cannot load PATH: pytorch: PATH offset 308: storage 0 claims 2305843009213693951 elements, more than the file holds"),
        // Bombs: refused before the memory is taken.
        ("pth_storage_bomb.pth", "cannot load PATH: pytorch: PATH tensor 'w': storage 0 would inflate 260916 bytes to 268435456 (over 100×: a zip bomb, not weights)"),
        ("pth_pickle_bomb.pth", "cannot load PATH: zip: entry 'evil/data.pkl' of 134217731 bytes exceeds the limit of 67108864 bytes"),
        ("pth_many_values.pth", "cannot load PATH: pickle: PATH evil/data.pkl offset 2000004: more than 2000000 values (a state dict has a few per tensor)"),
        ("zip64_far_offset.pth", "cannot load PATH: zip: PATH entry 'evil/data.pkl': local header missing at 9223372036854775807"),
        // Round three (make_round3.py): indices past the ranks they index, layers declared too big to build.
        ("onnx_reshape_zeros.onnx", "cannot load PATH: Reshape 'reshape': target [0, 0, 0, 0, 0, 0, 0, 0] copies axis 4 of a rank-4 input"),
        ("onnx_layernorm_axis.onnx", "cannot load PATH: LayerNormalization 'norm' over axes 2147483647… is not supported (graft normalizes one axis: the last)"),
        ("onnx_int64_axes.onnx", "cannot load PATH: Transpose 'transpose': perm [0, -1099511627776, 1099511627776, 1] does not permute 4 axes"),
        ("onnx_long_name.onnx", "loaded"),
        ("onnx_external_escape.onnx", "cannot load PATH: initializer 'w': external data '../../etc/passwd' must be a file in the model's folder (no absolute path, no '..')"),
        ("st_dense_2g.safetensors", "Linear: zeros: would take 17.2 GB, more than the memory limit of 2.0 GB (set memory=GB changes it)"),
        ("st_dense_intmax.safetensors", "Linear: features must be 1…2147483648, got 4 → 9223372036854775807"),
        ("st_dense_1e9.safetensors", "Linear: zeros: would take 16.0 GB, more than the memory limit of 2.0 GB (set memory=GB changes it)"),
        ("st_batchnorm_1e9.safetensors", "Linear: zeros: would take 4.0 GB, more than the memory limit of 2.0 GB (set memory=GB changes it)"),
        // Hugging Face folders (make_hf_malformed.py): a tiny ViT that loads, broken one way each.
        ("hf_no_weights", "cannot load PATH: the folder has no model.safetensors or pytorch_model.bin"),
        ("hf_unknown_model_type", "cannot load PATH: config.json names model_type 'gpt2'; graft reads vit, deit, dinov2, dinov2_with_registers, swin, convnext, resnet folders"),
        ("hf_remote_code", "cannot load PATH: config.json asks to run the model's own code ('auto_map'); graft runs no code from a file"),
        ("hf_heads_not_dividing", "cannot load PATH: config.json's num_attention_heads 3 does not divide hidden_size 8"),
        ("hf_position_1e9", "cannot load PATH: safetensors: tensor 'vit.embeddings.position_embeddings' of shape [1, 1000000001, 8] exceeds the limit of 2^32 elements"),
    ]

    @Test(arguments: 0..<expectations.count)
    func refusedWithItsOwnError(_ index: Int) {
        let (file, expected) = Self.expectations[index]
        let path = Self.folder.appendingPathComponent(file).path
        // Under a budget of 2 GB, as the shell loads them (the giants are refused by it).
        let message = formatMessage { try AllocationBudget(limit: 2_000_000_000).run { try ModelFiles.load(path) } } ?? "loaded"
        #expect(message == expected.replacingOccurrences(of: "PATH", with: path), "\(file): \(message.replacingOccurrences(of: path, with: "PATH"))")
    }

    @Test func theCorpusIsComplete() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { !$0.hasSuffix(".py") && !$0.hasSuffix(".h5") }
        #expect(Set(files) == Set(Self.expectations.map(\.0)), "every file of the corpus has its expected error")
    }

    @Test func truncationAtEveryLengthNeverCrashes() throws {
        // Every prefix of a valid zip checkpoint and of a valid safetensors file is refused or read, never a crash.
        let zip = try Data(contentsOf: formatsFixtures.appendingPathComponent("tiny_zip.pth"))
        for length in stride(from: 0, to: zip.count, by: 7) { _ = try? PyTorchCheckpoint.read(zip.prefix(length), name: "cut") }
        let state = StateDict(tensors: [("w", try GraftTensor.Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]))], metadata: ["k": "v"])
        let encoded = try SafeTensors.encode(state)
        #expect(try SafeTensors.read(encoded)["w"]?.scalars == [1, 2, 3, 4, 5, 6])
        for length in 0..<encoded.count { #expect(throws: FormatError.self) { try SafeTensors.read(encoded.prefix(length)) } }
        // Flipping any single byte of the pickle never crashes the machine.
        let legacyHead = try Data(contentsOf: examples.appendingPathComponent("models/efficientnet-lite0.pth")).prefix(4000)
        for position in stride(from: 0, to: legacyHead.count, by: 13) {
            var corrupted = legacyHead
            corrupted[position] ^= 0x5A
            _ = try? PyTorchCheckpoint.read(corrupted, name: "flipped")
        }
    }
}

import GraftTensor
