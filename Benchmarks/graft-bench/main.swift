import GraftTensor
print("graft-bench: workloads arrive with the conv kernels")
