// Writes example PNGs of dataset.synthetic_faces: one face per expression of one identity
// (or a contact sheet). Usage: faces_synth_examples OUT_DIR [seed] [identity] [pose] [size]
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <string>

#include "generator.hpp"

using namespace mien::faces_synth;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [seed] [identities] [pose] [size]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  Options o;
  const uint64_t seed = argc > 2 ? std::stoull(argv[2]) : 7;
  o.identities = argc > 3 ? std::stoi(argv[3]) : 1;
  o.poses = {argc > 4 ? argv[4] : "S"};
  o.size = argc > 5 ? std::stoi(argv[5]) : 128;
  const Dataset d = generate(o, seed);
  const int s = o.size;
  // contact sheet: identities × classes
  cv::Mat sheet(s * o.identities, s * 7, CV_8U);
  for (size_t i = 0; i < d.samples.size(); ++i) {
    const Sample& smp = d.samples[i];
    cv::Mat img(s, s, CV_8U, const_cast<uint8_t*>(d.images.data() + i * s * s));
    img.copyTo(sheet(cv::Rect(smp.cls * s, smp.identity * s, s, s)));
    if (smp.identity == 0) cv::imwrite(dir + "/" + class_defs()[smp.cls].name + ".png", img);
    if (smp.identity == 0) {
      cv::Mat m(s, s, CV_8U, const_cast<uint8_t*>(d.masks.data() + i * s * s));
      cv::imwrite(dir + "/mask_" + std::string(class_defs()[smp.cls].name) + ".png", m);
    }
  }
  cv::imwrite(dir + "/sheet.png", sheet);
  std::FILE* f = std::fopen((dir + "/ground_truth.json").c_str(), "w");
  if (f) {
    const std::string text = ground_truth(d).dump(1);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  return 0;
}
