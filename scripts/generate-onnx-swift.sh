#!/usr/bin/env bash
# Regenerates Sources/GraftFormats/ONNX/onnx.pb.swift from ONNX's onnx.proto (run rarely, by hand;
# the generated file is committed so that builds never run the protoc plugin).
#   needs: protoc (Debian's protobuf-compiler), protoc-gen-swift built from swift-protobuf 1.39.0
#          (swift build -c release --product protoc-gen-swift in a checkout of it),
#          and onnx.proto (the onnx Python package ships it: python -c "import onnx, os; print(os.path.dirname(onnx.__file__))")
# usage: scripts/generate-onnx-swift.sh PATH/TO/onnx.proto PATH/TO/protoc-gen-swift
set -euo pipefail
proto="$1"
plugin="$2"
out="$(dirname "$0")/../Sources/GraftFormats/ONNX"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$proto" "$work/onnx.proto"
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public --swift_out="$work" -I "$work" "$work/onnx.proto"
mkdir -p "$out"
mv "$work/onnx.pb.swift" "$out/onnx.pb.swift"
echo "wrote $out/onnx.pb.swift"
