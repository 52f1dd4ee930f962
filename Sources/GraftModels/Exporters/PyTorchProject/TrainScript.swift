/// The body of the exported `train.py` (after its docstring and `RECIPE`): the recipe carried out
/// with PyTorch, in one process or under `torchrun` with DistributedDataParallel.
enum TrainScript {
    static let body = #"""
import argparse
import collections
import json
import math
import os
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, WeightedRandomSampler, default_collate

from model import GraftModel

HERE = os.path.dirname(os.path.abspath(__file__))


def arguments():
    parser = argparse.ArgumentParser(description="Train the exported model as graft's session did.")
    initial = os.path.join(HERE, "initial.safetensors")
    parser.add_argument("--weights", default=initial if os.path.exists(initial) else os.path.join(HERE, "weights.safetensors"),
                        help="starting weights (default: initial.safetensors, those graft's recorded training started from, "
                             "when the export has them; else weights.safetensors, graft's final ones)")
    parser.add_argument("--data", default=os.path.join(HERE, "data"), help="folder of train_x.npy, train_y.npy (and val_, test_) arrays")
    parser.add_argument("--image-folder", help="instead of arrays: a folder with train/ (and val/, test/) of one subfolder per class")
    parser.add_argument("--out", default=os.path.join(HERE, "out"), help="where rank 0 writes metrics.jsonl and weights.safetensors")
    parser.add_argument("--epochs", type=int, help="epochs of every phase (default: the recipe's)")
    parser.add_argument("--deterministic", action="store_true",
                        help="graft's exact sample order, no dropout, no augmentation: the step losses graft had")
    parser.add_argument("--workers", type=int, default=0, help="data loader worker processes")
    parser.add_argument("--seed", type=int, default=RECIPE["seed"])
    parser.add_argument("--precision", choices=["float32", "bf16"],
                        help="the training step's products: bf16 runs it under torch.autocast with bfloat16, as graft's set precision=bf16 (default: each phase's, as graft ran it)")
    return parser.parse_args()


# --- data -------------------------------------------------------------------------------------------

def load_arrays(folder):
    """The splits graft trained on, as it stored them: images as bytes (value = byte / 255) or floats."""
    splits = {}
    for split in ("train", "val", "test"):
        path = os.path.join(folder, f"{split}_x.npy")
        if os.path.exists(path):
            splits[split] = (torch.from_numpy(np.load(path)), torch.from_numpy(np.load(os.path.join(folder, f"{split}_y.npy"))).long())
    return splits


def load_image_folder(folder):
    """train/ (val/, test/) of class subfolders, resized and cropped as graft loads images."""
    from torchvision import datasets, transforms
    channels, height, width = RECIPE["data"]["sample_shape"]
    steps = [transforms.Resize(height), transforms.CenterCrop((height, width))]
    if channels == 1:
        steps.insert(0, transforms.Grayscale())
    pipeline = transforms.Compose(steps + [transforms.PILToTensor()])
    splits = {}
    for split in ("train", "val", "test"):
        root = os.path.join(folder, split)
        if os.path.isdir(root):
            data = datasets.ImageFolder(root, transform=pipeline)
            order = [data.class_to_idx[name] for name in RECIPE["data"]["classes"] if name in data.class_to_idx]
            remap = {old: new for new, old in enumerate(order)}
            splits[split] = [(x, remap[y]) for x, y in data]
    return splits


class Samples(Dataset):
    """One split: bytes become values in [0, 1], then (training) augmentation, then normalization."""

    def __init__(self, split, augment=None):
        self.items, self.augment = split, augment
        norm = RECIPE["data"]["normalization"]
        self.mean = None if norm is None else torch.tensor(norm["mean"], dtype=torch.float32)
        self.inverse_std = None if norm is None else 1 / torch.tensor(norm["std"], dtype=torch.float32)

    def __len__(self):
        return len(self.items[0]) if isinstance(self.items, tuple) else len(self.items)

    def __getitem__(self, index):
        x, y = (self.items[0][index], self.items[1][index]) if isinstance(self.items, tuple) else self.items[index]
        x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
        if self.augment is not None:
            x = self.augment(x)
        if self.mean is not None:
            shape = (-1, 1, 1) if x.dim() == 3 else (1,)
            x = (x - self.mean[: x.shape[0] if x.dim() == 3 else 1].reshape(shape)) * self.inverse_std[: x.shape[0] if x.dim() == 3 else 1].reshape(shape)
        return x, int(y)


def augmentation(spec):
    """graft's augment= in torchvision's terms (each as torchvision defines it)."""
    if not spec:
        return None
    from torchvision.transforms import v2
    _, height, width = RECIPE["data"]["sample_shape"]
    steps = []
    if "crop_scale" in spec:
        steps.append(v2.RandomResizedCrop((height, width), scale=tuple(spec["crop_scale"]), antialias=True))
    if spec.get("flip"):
        steps.append(v2.RandomHorizontalFlip())
    if spec.get("vflip"):
        steps.append(v2.RandomVerticalFlip())
    if "rotate" in spec or "shift" in spec:
        shift = spec.get("shift", 0)
        steps.append(v2.RandomAffine(degrees=spec.get("rotate", 0), translate=(shift, shift) if shift else None))
    if any(k in spec for k in ("brightness", "contrast", "saturation")):
        steps.append(v2.ColorJitter(brightness=spec.get("brightness", 0), contrast=spec.get("contrast", 0), saturation=spec.get("saturation", 0)))
    return v2.Compose(steps)


# --- the recipe ---------------------------------------------------------------------------------------

def rate_factor(schedule, step, total, steps_per_epoch, warmup):
    """graft's schedule as a factor of the base rate at a 0-based step (PyTorch's LambdaLR takes it)."""
    if step < warmup:
        return (step + 1) / warmup
    s, n = step - warmup, max(total - warmup, 1)
    name = schedule["name"]
    if name == "constant":
        return 1.0
    if name == "step":
        return schedule["gamma"] ** (s // max(schedule["every"] * steps_per_epoch, 1))
    if name == "cosine":
        return 0.5 * (1 + math.cos(math.pi * s / n))
    # onecycle: PyTorch's OneCycleLR (cosine), from base/25 up to base over 30 % of the steps, then to base/25e4.
    initial, final = 1 / 25, 1 / 25 / 1e4
    peak = max(int(0.3 * n) - 1, 1)

    def anneal(start, end, fraction):
        return end + (start - end) / 2 * (1 + math.cos(math.pi * fraction))
    return anneal(initial, 1.0, s / peak) if s <= peak else anneal(1.0, final, (s - peak) / max(n - 1 - peak, 1))


def make_optimizer(phase, named):
    """The optimizer over the trainable parameters: the head at lr, the rest at backbone_lr when given;
    with layer decay, one group per rate (lr times each parameter's share in layer_scales)."""
    head = tuple(name + "." for name in phase["head"])
    if phase.get("layer_scales"):
        by_scale = {}
        for n, p in named:
            by_scale.setdefault(phase["layer_scales"].get(n, 1.0), []).append(p)
        groups = [{"params": params, "lr": phase["lr"] * scale} for scale, params in sorted(by_scale.items(), key=lambda item: -item[0])]
    else:
        groups = [{"params": [p for n, p in named if n.startswith(head) or phase["backbone_lr"] is None], "lr": phase["lr"]},
                  {"params": [p for n, p in named if not n.startswith(head) and phase["backbone_lr"] is not None], "lr": phase["backbone_lr"]}]
    groups = [g for g in groups if g["params"]]
    spec, decay = phase["optimizer"], phase["weight_decay"]
    if spec["name"] == "sgd":
        return torch.optim.SGD(groups, momentum=spec["momentum"], nesterov=spec["nesterov"], weight_decay=decay)
    if spec["name"] == "adam":
        return torch.optim.Adam(groups, betas=spec["betas"], eps=spec["eps"], weight_decay=decay)
    if spec["name"] == "adamw":
        return torch.optim.AdamW(groups, betas=spec["betas"], eps=spec["eps"], weight_decay=decay)
    return torch.optim.RMSprop(groups, alpha=spec["alpha"], eps=spec["eps"], momentum=spec["momentum"], weight_decay=decay)


def set_modes(model, phase, deterministic):
    """Training mode exactly where graft ran it: BatchNorm on batch statistics, active dropout
    (with --deterministic, dropout and stochastic depth stay off)."""
    model.eval()
    for name in phase["train_mode"]:
        module = model.get_submodule(name)
        random = isinstance(module, torch.nn.Dropout) or type(module).__name__ == "DropPath"
        if not (deterministic and random):
            module.train()


def evaluate(model, split, batch_size, device):
    """Mean loss and accuracy over a split, in inference mode (every process sees all of it)."""
    model.eval()
    loader = DataLoader(Samples(split), batch_size=batch_size)
    loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x, logits=True)
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
            count += len(y)
    return loss / max(count, 1), correct / max(count, 1)


def batches(n, phase, epoch, args, rank, world, graft_orders):
    """Each step's sample indices for this process: its share of the global batch."""
    batch = phase["batch_size"]
    if args.deterministic:
        order = graft_orders[epoch] if epoch < len(graft_orders) else list(range(n))
    else:
        generator = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        if phase.get("sampler") == "balanced":
            # graft's sampler=balanced: n draws with replacement, each ∝ 1 / its class's count.
            order = list(WeightedRandomSampler(phase["sample_weights"], n, replacement=True, generator=generator))
        else:
            order = torch.randperm(n, generator=generator).tolist()
    steps = phase["steps_per_epoch"] if phase["steps_per_epoch"] else math.ceil(n / batch)
    for step in range(steps):
        indices = order[step * batch:(step + 1) * batch]
        if len(indices) < world:
            continue  # too few samples left to give every process one
        share = math.ceil(len(indices) / world)
        yield indices[rank * share:(rank + 1) * share]


def main():
    args = arguments()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    distributed = world > 1
    cuda = torch.cuda.is_available()
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if cuda else "cpu")
    torch.manual_seed(args.seed + rank)

    model = GraftModel()
    model.load_state_dict(load_file(args.weights), strict=True)
    with safe_open(args.weights, "pt") as f:
        metadata = f.metadata() or {}
    model.to(device)
    splits = load_image_folder(args.image_folder) if args.image_folder else load_arrays(args.data)
    train_split = splits["train"]
    n = len(Samples(train_split))
    graft_run = {}
    if args.deterministic and os.path.exists(os.path.join(HERE, "graft_run.json")):
        with open(os.path.join(HERE, "graft_run.json")) as f:
            graft_run = json.load(f)
    random_layers = [name for phase in RECIPE["phases"] for name in phase["train_mode"]
                     if isinstance(model.get_submodule(name), torch.nn.Dropout) or type(model.get_submodule(name)).__name__ == "DropPath"]
    if args.deterministic and rank == 0 and (random_layers or any(phase["augment"] for phase in RECIPE["phases"])):
        print("note: graft's run drew random numbers (" + (f"dropout in {', '.join(random_layers[:3])}" if random_layers else "augmentation")
              + "); --deterministic leaves them out, so its losses follow graft's only where graft's did not depend on them", flush=True)
    os.makedirs(args.out, exist_ok=True)
    metrics = open(os.path.join(args.out, "metrics.jsonl"), "w") if rank == 0 else None

    for index, phase in enumerate(RECIPE["phases"]):
        phase = dict(phase, epochs=args.epochs or phase["epochs"])
        if phase.get("steps_per_epoch") and args.image_folder:
            phase["steps_per_epoch"] = None
        trainable = set(name for name, _ in model.named_parameters()) if phase["trainable"] == "all" else set(phase["trainable"])
        for name, parameter in model.named_parameters():
            parameter.requires_grad_(name in trainable)
        named = [(n_, p) for n_, p in model.named_parameters() if p.requires_grad]
        net = DistributedDataParallel(model) if distributed else model
        optimizer = make_optimizer(phase, named)
        steps_per_epoch = phase["steps_per_epoch"] or math.ceil(n / phase["batch_size"])
        total = steps_per_epoch * phase["epochs"]
        warmup = phase["warmup_epochs"] * steps_per_epoch
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: rate_factor(phase["schedule"], step, total, steps_per_epoch, warmup))
        dataset = Samples(train_split, None if args.deterministic else augmentation(phase["augment"]))
        if phase.get("sampler") == "balanced":
            labels = [int(dataset.items[1][i]) if isinstance(dataset.items, tuple) else int(dataset.items[i][1]) for i in range(n)]
            counts = collections.Counter(labels)
            phase["sample_weights"] = [1.0 / counts[label] for label in labels]
        orders = (graft_run.get("phases") or [{}] * (index + 1))[index].get("orders", []) if graft_run else []
        # graft's class weights, resolved on its training split (CrossEntropyLoss(weight=)).
        weights = phase.get("class_weights")
        class_weights = None if weights is None else torch.tensor(weights, dtype=torch.float32, device=device)
        precision = args.precision or phase.get("precision", "float32")
        best, waited = None, 0
        for epoch in range(phase["epochs"]):
            started = time.time()
            set_modes(model, phase, args.deterministic)
            if not args.deterministic and distributed and phase.get("sampler") != "balanced":
                # The usual DDP input pipeline: every process its DistributedSampler share of each epoch
                # (with sampler=balanced, every process takes its share of the same weighted draws instead).
                sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
                sampler.set_epoch(epoch)
                loader = DataLoader(dataset, batch_size=max(phase["batch_size"] // world, 1), sampler=sampler,
                                    num_workers=args.workers, drop_last=bool(phase["steps_per_epoch"]))
                plan = loader
            else:
                plan = (default_collate([dataset[i] for i in share]) for share in batches(n, phase, epoch, args, rank, world, orders))
            sums = torch.zeros(3, dtype=torch.float64)
            step_losses = []
            for x, y in plan:
                x, y = x.to(device), y.to(device)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                    logits = net(x, logits=True)
                    loss = F.cross_entropy(logits.float(), y, weight=class_weights, label_smoothing=phase["label_smoothing"])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if phase["clip_norm"] is not None:
                    torch.nn.utils.clip_grad_norm_([p for _, p in named], phase["clip_norm"])
                optimizer.step()
                used_lr = optimizer.param_groups[0]["lr"]
                scheduler.step()
                part = torch.tensor([loss.item() * len(y), (logits.argmax(1) == y).sum().item(), len(y)], dtype=torch.float64)
                if distributed:
                    dist.all_reduce(part)
                sums += part
                step_losses.append(part[0].item() / part[2].item())
            record = {"phase": index + 1, "epoch": epoch + 1, "loss": sums[0].item() / sums[2].item(),
                      "accuracy": sums[1].item() / sums[2].item(), "lr": used_lr, "step_losses": step_losses}
            if "val" in splits:
                record["val_loss"], record["val_accuracy"] = evaluate(model, splits["val"], max(phase["batch_size"], 64), device)
            record["seconds"] = time.time() - started
            if metrics:
                metrics.write(json.dumps(record) + "\n")
                metrics.flush()
                shown = "  ".join(f"{k} {v:.4f}" for k, v in record.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy"))
                print(f"phase {index + 1} epoch {epoch + 1}/{phase['epochs']}  {shown}", flush=True)
            if phase["patience"] is not None and "val_loss" in record:
                if best is not None and record["val_loss"] >= best[0]:
                    waited += 1
                    if waited >= phase["patience"]:
                        break
                else:
                    best, waited = (record["val_loss"], {k: v.detach().clone() for k, v in model.state_dict().items()}), 0
        if best is not None and phase["restore_best"]:
            model.load_state_dict(best[1])

    result = {}
    if "test" in splits:
        result["test_loss"], result["test_accuracy"] = evaluate(model, splits["test"], 64, device)
    if rank == 0:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, os.path.join(args.out, "weights.safetensors"), metadata=metadata)
        metrics.write(json.dumps(dict(result, final=True)) + "\n")
        metrics.close()
        if result:
            print(f"test loss {result['test_loss']:.4f}  accuracy {result['test_accuracy']:.4f}", flush=True)
        print(f"wrote {os.path.join(args.out, 'weights.safetensors')} (graft load reads it back)", flush=True)
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
"""#
}
