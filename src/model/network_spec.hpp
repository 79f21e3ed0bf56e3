#pragma once
// The network of docs/theory.md section 1: architecture (weight sharing or not), activation, depth T,
// width N and the prior variances w, u, v and likelihood variance kappa (per 1/N).
#include <string>

namespace kernelsweep {

enum class Architecture { rnn, dnn };
enum class Activation { linear, erf };

struct NetworkSpec {
  Architecture architecture = Architecture::rnn;
  Activation activation = Activation::linear;
  int T = 4;     // time steps (RNN) or layers (DNN)
  int N = 256;   // width; used by SGLD only (the theory is N -> infinity)
  double w = 1.0;      // W_ij ~ N(0, w/N)
  double u = 1.0;      // U_ik ~ N(0, u/D)
  double v = 1.0;      // a_i ~ N(0, v)
  double kappa = 0.1;  // y ~ N(f, kappa/N)
};

std::string to_string(Architecture architecture);
std::string to_string(Activation activation);

}  // namespace kernelsweep
