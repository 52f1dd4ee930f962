import Foundation
import GraftData
import GraftFormats
import GraftNN
import GraftTraining
import GraftTensor

/// `export pytorch DIR`: a self-contained PyTorch project for a model and its last training recipe —
/// `model.py` (``PyTorchExporter``), `weights.safetensors` (graft's own file, which PyTorch reads
/// and `graft load` reads back), `train.py` (the recipe, under `torchrun` with DDP or in one
/// process), the data as graft held it (`data/*.npy`), graft's run (`graft_run.json`: sample
/// orders and step losses, for `train.py --deterministic`) and a README. Everything is checked
/// before anything is written; the folder appears whole (written beside it, then renamed).
public struct PyTorchProject {
    public let model: Model
    public let recipe: TrainingRecipe?
    public let dataset: Dataset?
    public let seed: UInt64
    public let graftVersion: String

    public init(model: Model, recipe: TrainingRecipe?, dataset: Dataset?, seed: UInt64, graftVersion: String) {
        (self.model, self.recipe, self.dataset, self.seed, self.graftVersion) = (model, recipe, dataset, seed, graftVersion)
    }

    /// A marker file: a folder holding it is a graft export, which a new export may replace.
    static let marker = ".graft-export"

    public struct Written {
        public let files: [String]
        public let bytes: Int
    }

    /// The names an export writes at its top level: anything else in a folder is someone else's.
    static let ownNames: Set<String> = ["model.py", "weights.safetensors", "initial.safetensors", "train.py", "data", "graft_run.json", "README.md", marker]

    /// Writes the project into `folder` (which must not exist, or be empty, or hold an earlier
    /// export and nothing else), replacing an earlier export only once the new one is whole.
    public func write(to folder: String) throws -> Written {
        let destination = URL(fileURLWithPath: folder).standardizedFileURL
        try checkDestination(destination)
        let staged = try stage(beside: destination)
        try staged.place(at: destination.path)
        return staged.written
    }

    /// A project written whole into a hidden folder beside where it is going.
    public struct Staged {
        public let folder: URL
        public let written: Written

        /// True when `other` holds every file of this project with the same bytes (other files may be there too).
        public func matches(_ other: String) -> Bool {
            written.files.allSatisfy { name in
                guard let mine = try? Data(contentsOf: folder.appendingPathComponent(name)),
                      let theirs = try? Data(contentsOf: URL(fileURLWithPath: other).appendingPathComponent(name)) else { return false }
                return mine == theirs
            }
        }

        /// Moves the project to `destination`; an earlier export there is replaced only once the new one is whole.
        public func place(at destination: String) throws {
            do { try PyTorchProject.replace(URL(fileURLWithPath: destination), with: folder) } catch {
                discard()
                throw ModelError.invalidArgument(what: "export pytorch", reason: "cannot write \(destination): \(error.localizedDescription)")
            }
        }

        public func discard() { try? FileManager.default.removeItem(at: folder) }
    }

    /// Writes the project whole into a hidden folder beside `destination` (whose parent must exist).
    /// Everything that can fail on the model or the data fails before a file is written.
    public func stage(beside destination: URL) throws -> Staged {
        // A link is never written through or replaced (at the prompt and in replays alike).
        if (try? FileManager.default.attributesOfItem(atPath: destination.path))?[.type] as? FileAttributeType == .typeSymbolicLink {
            throw ModelError.invalidArgument(what: "export pytorch", reason: "\(destination.path) is a symbolic link (graft never writes through one); give a folder")
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: destination.deletingLastPathComponent().path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ModelError.invalidArgument(what: "export pytorch", reason: "folder \(destination.deletingLastPathComponent().path) does not exist")
        }
        // Everything that can fail on the model or the data fails here, before a file is written.
        let modelSource = try PyTorchExporter.source(model, header: "A model exported by graft \(Py.plain(graftVersion)) (NAME and ARCHITECTURE below say which).")
        if let dataset { try checkData(dataset) }
        let phases = recipe?.phases ?? [TrainingPhase(options: TrainingOptions(), model: model)]  // train's defaults, as the model stands

        let fm = FileManager.default
        let parent = destination.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(destination.lastPathComponent).export-\(getpid())")
        try? fm.removeItem(at: staging)
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch { throw ModelError.invalidArgument(what: "export pytorch", reason: "cannot create a folder in \(parent.path): \(error.localizedDescription)") }
        var files: [(String, Int)] = []
        do {
            func put(_ name: String, _ data: Data) throws {
                try writeAtomically(data, to: staging.appendingPathComponent(name))
                files.append((name, data.count))
            }
            try put("model.py", Data(modelSource.utf8))
            let weights = staging.appendingPathComponent("weights.safetensors").path
            files.append(("weights.safetensors", try ModelFiles.save(model, to: weights)))
            if let start {
                let initial = staging.appendingPathComponent("initial.safetensors").path
                files.append(("initial.safetensors", try model.withWeights(of: start) { try ModelFiles.save(model, to: initial) }))
            }
            try put("train.py", Data(trainScript(phases).utf8))
            if let dataset {
                try fm.createDirectory(at: staging.appendingPathComponent("data"), withIntermediateDirectories: false)
                for (split, samples) in [("train", Optional(dataset.train)), ("val", dataset.validation), ("test", dataset.test)] {
                    guard let samples else { continue }
                    try put("data/\(split)_x.npy", Self.values(samples))
                    try put("data/\(split)_y.npy", NumPyArray(shape: [samples.count], integers: samples.labels).encoded())
                }
            }
            if let recipe { try put("graft_run.json", try runRecord(recipe)) }
            try put("README.md", Data(readme(phases).utf8))
            // The marker lists every file the export wrote: a new export replaces a folder holding
            // these and nothing else (a file added since, a symlink, is someone else's).
            try put(Self.marker, Data(((["written by graft \(graftVersion)"] + files.map(\.0).sorted()).joined(separator: "\n") + "\n").utf8))
        } catch {
            try? fm.removeItem(at: staging)
            // The staging folder's name is graft's business: the message names the destination.
            if case let FormatError.cannotWrite(_, reason) = error {
                throw ModelError.invalidArgument(what: "export pytorch", reason: "cannot write \(destination.path): \(reason)")
            }
            throw error
        }
        return Staged(folder: staging, written: Written(files: files.map(\.0), bytes: files.reduce(0) { $0 + $1.1 }))
    }

    // MARK: Checks

    func checkDestination(_ url: URL) throws {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isFolder) else { return }
        guard isFolder.boolValue else { throw ModelError.invalidArgument(what: "export pytorch", reason: "\(url.path) is a file, not a folder") }
        let contents = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
        let foreign = Self.foreignFiles(in: url)
        guard contents.isEmpty || (contents.contains(Self.marker) && foreign.isEmpty) else {
            let which = foreign.isEmpty ? "" : " (\(foreign.prefix(3).joined(separator: ", "))\(foreign.count > 3 ? " and \(foreign.count - 3) more" : ""))"
            throw ModelError.invalidArgument(what: "export pytorch", reason: "\(url.path) holds files graft did not write\(which); give a new or empty folder (nothing was written)")
        }
    }

    /// Files and links under `folder` (an earlier export) that the export did not write: not in its
    /// marker's list (an older marker without one: not among the names an export writes). Links are
    /// never followed; a folder of the export holding anything else makes it someone else's too.
    static func foreignFiles(in folder: URL) -> [String] {
        let markerText = (try? String(contentsOf: folder.appendingPathComponent(marker), encoding: .utf8)) ?? ""
        let listed = Set(markerText.split(separator: "\n").dropFirst().map(String.init))
        let old = Set(["train", "val", "test"].flatMap { ["data/\($0)_x.npy", "data/\($0)_y.npy"] })
        var foreign: [String] = []
        func walk(_ url: URL, _ prefix: String) {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted() {
                let path = prefix + name, item = url.appendingPathComponent(name)
                let type = (try? FileManager.default.attributesOfItem(atPath: item.path)[.type] as? FileAttributeType) ?? nil
                if type == .typeDirectory, path == "data" {
                    walk(item, "data/")
                } else if type != .typeRegular || !(listed.isEmpty ? ownNames.contains(path) || old.contains(path) : listed.contains(path) || path == marker) {
                    foreign.append(path)
                }
            }
        }
        walk(folder, "")
        return foreign
    }

    func checkData(_ data: Dataset) throws {
        guard model.accepts(data.sampleShape) else {
            throw ModelError.shapeMismatch(layer: model.name, reason: "dataset \(data.name) has samples \(formatShape(data.sampleShape)), the model takes \(formatShape(model.inputShape))")
        }
    }

    /// Moves the staged folder into place; an earlier export there is replaced only once the new one is whole.
    static func replace(_ destination: URL, with staging: URL) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: destination.path) {
            let old = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).old-\(getpid())")
            try? fm.removeItem(at: old)
            try fm.moveItem(at: destination, to: old)
            do { try fm.moveItem(at: staging, to: destination) } catch {
                try? fm.moveItem(at: old, to: destination)
                throw error
            }
            try? fm.removeItem(at: old)
        } else {
            try fm.moveItem(at: staging, to: destination)
        }
    }

    // MARK: Contents

    /// A split's inputs as graft stores them: uint8 for images, float32 otherwise.
    static func values(_ samples: Samples) -> Data {
        let shape = [samples.count] + samples.sampleShape
        if let bytes = samples.storedBytes { return NumPyArray.encoded(shape: shape, bytes: bytes) }
        return NumPyArray(shape: shape, values: samples.storedFloats ?? []).encoded()
    }

    var normalization: Normalization? { model.normalization ?? dataset?.normalization }

    /// The weights the recorded training started from, when the model still has the parameters it
    /// trained (a new head since then, or a resumed run, leaves only the final weights).
    var start: ModelState? { recipe?.start.flatMap { model.hasSameParameters(as: $0) ? $0 : nil } }

    func recipeLiteral(_ phases: [TrainingPhase]) -> PyLiteral {
        let channels = model.inputShape.count == 3 ? model.inputShape[0] : 1
        var norm = PyLiteral.none
        if let normalization, normalization != .unit {
            let (mean, std) = normalization.meanAndStd(channels: channels)
            norm = .dict([("mean", .list(mean.map(PyLiteral.float))), ("std", .list(std.map(PyLiteral.float)))])
        }
        let data: PyLiteral = .dict([
            ("name", dataset.map { .string($0.name) } ?? .none),
            ("classes", .list((dataset?.classNames ?? model.classNames).map(PyLiteral.string))),
            ("sample_shape", .list((dataset?.sampleShape ?? model.inputShape).map(PyLiteral.int))),
            ("normalization", norm),
        ])
        let all = Set(model.parameters.map(\.key))
        let phaseLiterals = phases.map { phase -> PyLiteral in
            let o = phase.options
            let optimizer: PyLiteral
            switch o.optimizer {
            case let .sgd(momentum, nesterov): optimizer = .dict([("name", .string("sgd")), ("momentum", .float(momentum)), ("nesterov", .bool(nesterov))])
            case let .adam(b1, b2, eps): optimizer = .dict([("name", .string("adam")), ("betas", .list([.float(b1), .float(b2)])), ("eps", .float(eps))])
            case let .adamW(b1, b2, eps): optimizer = .dict([("name", .string("adamw")), ("betas", .list([.float(b1), .float(b2)])), ("eps", .float(eps))])
            case let .rmsprop(alpha, eps, momentum): optimizer = .dict([("name", .string("rmsprop")), ("alpha", .float(alpha)), ("eps", .float(eps)), ("momentum", .float(momentum))])
            }
            let schedule: PyLiteral
            switch o.schedule {
            case .constant: schedule = .dict([("name", .string("constant"))])
            case .cosine: schedule = .dict([("name", .string("cosine"))])
            case .oneCycle: schedule = .dict([("name", .string("onecycle"))])
            case let .step(every, gamma): schedule = .dict([("name", .string("step")), ("every", .int(every)), ("gamma", .float(gamma))])
            }
            let a = o.augmentation
            var augment: [(String, PyLiteral)] = []
            if a.horizontalFlip { augment.append(("flip", .bool(true))) }
            if a.verticalFlip { augment.append(("vflip", .bool(true))) }
            if let scale = a.resizedCropScale { augment.append(("crop_scale", .list([.float(Float(scale.lowerBound)), .float(Float(scale.upperBound))]))) }
            if a.maxRotation > 0 { augment.append(("rotate", .float(Float(a.maxRotation)))) }
            if a.maxTranslation > 0 { augment.append(("shift", .float(Float(a.maxTranslation)))) }
            if a.brightness > 0 { augment.append(("brightness", .float(Float(a.brightness)))) }
            if a.contrast > 0 { augment.append(("contrast", .float(Float(a.contrast)))) }
            if a.saturation > 0 { augment.append(("saturation", .float(Float(a.saturation)))) }
            let fullBatches = dataset.map { ($0.train.count + o.batchSize - 1) / o.batchSize }
            return .dict([
                ("epochs", .int(o.epochs)), ("batch_size", .int(o.batchSize)), ("lr", .float(o.learningRate)),
                ("backbone_lr", o.backboneLearningRate.map(PyLiteral.float) ?? .none),
                // Layer decay: each parameter's share of lr, as graft gave it (the head's is 1).
                ("layer_scales", o.layerDecay.flatMap { model.layerDecayScales($0) }.map { scales in
                    .dict(scales.filter { $0.parameter.trainable }.map { ($0.key, PyLiteral.float($0.scale)) }) } ?? .none),
                ("optimizer", optimizer), ("weight_decay", .float(o.weightDecay)), ("schedule", schedule), ("warmup_epochs", .int(o.warmupEpochs)),
                ("clip_norm", o.clipNorm.map(PyLiteral.float) ?? .none), ("label_smoothing", .float(o.labelSmoothing)),
                ("class_weights", phase.classWeights.map { .list($0.map(PyLiteral.float)) } ?? .none),
                ("sampler", .string(o.sampler.rawValue)),
                // bf16: graft's products took bfloat16 operands (set precision=bf16); train.py runs the step under autocast.
                ("precision", .string(phase.precision.rawValue)),
                ("patience", o.patience.map(PyLiteral.int) ?? .none), ("restore_best", .bool(o.restoreBest)),
                ("augment", .dict(augment)),
                ("trainable", Set(phase.trainable) == all ? .string("all") : .list(phase.trainable.map(PyLiteral.string))),
                ("train_mode", .list(phase.trainMode.map(PyLiteral.string))),
                ("head", .list(phase.head.map(PyLiteral.string))),
                // Set when graft dropped a last batch of one sample (BatchNorm in training mode needs two).
                ("steps_per_epoch", phase.batchesPerEpoch > 0 && fullBatches.map { phase.batchesPerEpoch < $0 } == true ? .int(phase.batchesPerEpoch) : .none),
            ])
        }
        return .dict([
            ("model", .string(model.name)), ("architecture", .string(model.architecture)),
            ("command", recipe.map { .string($0.command) } ?? .none), ("seed", .int(Int(truncatingIfNeeded: seed))),
            ("data", data), ("phases", .list(phaseLiterals)),
        ])
    }

    func trainScript(_ phases: [TrainingPhase]) -> String {
        // Nothing from a file goes into the docstring: the names are in RECIPE, as string literals.
        let command = recipe == nil ? "none yet (train's defaults on the current trainable set)" : "RECIPE[\"command\"], on RECIPE[\"data\"][\"name\"]"
        return """
        #!/usr/bin/env python3
        \"\"\"Trains the model of model.py (RECIPE["model"]) as graft's session did, with PyTorch: in one process, or in several with
        DistributedDataParallel under torchrun (gloo on CPUs, nccl on GPUs; the global batch is split
        across the processes).

            python train.py                                  # one process
            torchrun --nproc-per-node=4 train.py             # four processes on this machine
            python train.py --deterministic                  # graft's sample order, no randomness

        Written by graft \(Py.plain(graftVersion)). The recipe is the session's last training command: \(command).
        \"\"\"

        RECIPE = \(recipeLiteral(phases).rendered())

        """ + TrainScript.body
    }

    /// graft's own run, for `--deterministic` and for checking: per phase, each epoch's sample order,
    /// each step's loss, each epoch's figures.
    func runRecord(_ recipe: TrainingRecipe) throws -> Data {
        let phases: [[String: Any]] = recipe.phases.map { phase in
            ["orders": phase.orders, "step_losses": phase.stepLosses.map(Double.init),
             "epochs": phase.epochs.map { record -> [String: Any] in
                 var entry: [String: Any] = ["epoch": record.epoch, "loss": Double(record.loss), "accuracy": Double(record.accuracy), "lr": Double(record.learningRate)]
                 if let v = record.validationLoss { entry["val_loss"] = Double(v) }
                 if let v = record.validationAccuracy { entry["val_accuracy"] = Double(v) }
                 return entry
             }]
        }
        return try JSONSerialization.data(withJSONObject: ["command": recipe.command, "dataset": recipe.dataset, "phases": phases], options: [.sortedKeys])
    }

    /// Which weights `train.py` starts from, as the README says it.
    var startNote: String {
        if start != nil {
            return "`train.py` starts from `initial.safetensors`, the weights graft's recorded training started from, and so repeats graft's run; `--weights weights.safetensors` trains on from where graft ended instead."
        }
        if recipe?.start != nil {
            return "`train.py` starts from `weights.safetensors`: the model changed after its recorded training (its parameters are not the ones that trained), so only its present weights are exported, and the recipe trains them further."
        }
        if recipe != nil {
            return "`train.py` starts from `weights.safetensors`: the recorded training resumed from a checkpoint, whose starting weights graft does not have, so the recipe trains on from where graft ended."
        }
        return "`train.py` starts from `weights.safetensors`, the weights graft has now (nothing was trained yet)."
    }

    func readme(_ phases: [TrainingPhase]) -> String {
        // Names and commands come from files and sessions: each through Markdown's escaping.
        let command = recipe.map { "\(Markdown.code($0.command)) on \(Markdown.code($0.dataset))" } ?? "none yet: `train.py` uses `train`'s defaults on the current trainable set"
        let trainable = model.trainableParameterCount, total = model.parameterCount
        return """
        # \(Markdown.text(model.name)), exported from graft to PyTorch

        Written by graft \(Markdown.text(graftVersion)) (`export pytorch`). The model is \(Markdown.text(model.architecture)) with \(total) parameters
        (\(trainable) trainable when exported), input \(model.describedInputShape), \(model.classNames.count) classes.
        The recipe is the session's last training command: \(command).

        | file | what it holds |
        |---|---|
        | `model.py` | the graph as plain `torch.nn` code; every layer is a submodule under graft's name, so `state_dict` keys are graft's |
        | `weights.safetensors` | the weights and BatchNorm statistics graft had when it exported: the end of its training (`safetensors.torch.load_file`, then `load_state_dict(…, strict=True)`) |
        \(start != nil ? "| `initial.safetensors` | the weights the recorded training started from: `train.py` starts from these, so it does graft's run again |\n" : "")| `train.py` | the recipe: frozen parameters, BatchNorm modes, head, optimizer, schedule and warm-up, discriminative rates, label smoothing, class weights, clipping, epochs, global batch, augmentation, early stopping, seed |
        | `data/` | the splits graft trained and tested on, as it held them (images as bytes, value = byte / 255) |
        | `graft_run.json` | graft's own run: the sample order of each epoch and the loss of each step |

        ## Run it

        Needs Python 3.9+ with `torch`, `numpy` and `safetensors` (and `torchvision` for augmentation or `--image-folder`).

        ```sh
        python train.py                                   # one process
        torchrun --nproc-per-node=2 train.py              # two processes on this machine (gloo on CPU, nccl with CUDA)
        torchrun --nnodes=4 --nproc-per-node=8 --rdzv-backend=c10d --rdzv-endpoint=HOST:29400 train.py   # on every node
        python train.py --deterministic                   # graft's sample order, dropout and augmentation off
        python train.py --image-folder /data/photos       # train/, val/, test/ of class folders instead of data/
        ```

        \(startNote)

        The batch size in the recipe is global: each of N processes takes 1/N of every batch. Rank 0 writes
        `out/metrics.jsonl` (one line per epoch, with every step's loss) and `out/weights.safetensors`,
        which `graft load out/weights.safetensors` reads back with the graph, head and class names.

        ## What graft checked

        `scripts/check-pytorch-export.sh` in graft's repository exports sessions like this one and checks that
        `model.py` with these weights gives graft's outputs (1e-5 relative), that one epoch of
        `train.py --deterministic` from the same weights gives graft's loss at every step (1e-4 relative), that
        `torchrun --nproc-per-node=2` runs to the end within a point of the single process's accuracy, and
        that the weights it writes load back into graft with the test loss and accuracy PyTorch printed.
        `--deterministic` gives graft's numbers only when graft's own run had no active dropout or augmentation:
        their random draws come from different generators.

        """
    }
}
