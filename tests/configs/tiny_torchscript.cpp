// Writes a tiny untrained TorchScript image classifier (grey 128x128, align.eyes's crops,
// -> 7 classes; submodules `features` (conv + ReLU) and `head`, run in sequence) to
// argv[1]: the stand-in for a user's own CNN in the test of paper_kdef.yaml's
// model.torchscript recipe.
#include <torch/script.h>
#include <torch/torch.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUT.pt\n";
    return 2;
  }
  torch::manual_seed(7);
  torch::jit::Module f("Features");
  f.register_parameter("w", torch::randn({4, 1, 3, 3}) * 0.5, false);
  f.register_parameter("b", torch::randn({4}) * 0.1, false);
  f.define(R"(
def forward(self, x):
    return torch.relu(torch.conv2d(x, self.w, self.b, [1, 1], [1, 1]))
)");
  torch::jit::Module h("Head");
  h.register_parameter("w", torch::randn({4 * 128 * 128, 7}) * 0.01, false);
  h.register_parameter("b", torch::randn({7}) * 0.1, false);
  h.define(R"(
def forward(self, x):
    return torch.matmul(torch.flatten(x, 1), self.w) + self.b
)");
  torch::jit::Module m("TinyNet");
  m.register_module("features", f);
  m.register_module("head", h);
  m.define("def forward(self, x):\n    return self.head.forward(self.features.forward(x))\n");
  m.save(argv[1]);
  return 0;
}
