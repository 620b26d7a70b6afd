// Training at scale: tensor, pipeline and data parallelism combined (3-D
// parallelism, Narayanan et al. 2021), with sequence and expert parallelism,
// ZeRO (Rajbhandari et al. 2020), activation recomputation (Korthikanti et
// al. 2022) and gradient accumulation. One step of a global batch of B
// samples on N = t · p · d devices:
//
//   layout   t-way tensor parallelism inside a node first (ranks t apart are
//            one tensor group), d data-parallel replicas (stride t), p
//            pipeline stages (stride t · d), as Megatron-LM orders them;
//            m = B / (d · b) microbatches of b samples per replica.
//   layers   each op's roofline at b samples (roofline.hpp); ops split by
//            tensor parallelism run 1/t of it: attention (heads), fc
//            (column-parallel when its input is whole, row-parallel when it is
//            split), lm_head (vocabulary), embedding (vocabulary), moe
//            (experts' widths), and the weightless ops between split ones.
//            A row-parallel fc, attention, a vocabulary-parallel embedding
//            and moe all-reduce their output forward; a column-parallel fc,
//            lm_head, attention and moe all-reduce their input's gradient
//            backward, over the tensor group. Sequence parallelism splits
//            the rest (norms, residual adds) along the sequence and turns each
//            all-reduce into a reduce-scatter and an all-gather (the same time).
//            Expert parallelism spreads a moe's experts over e replicas and
//            exchanges the routed tokens all-to-all, twice each way.
//   stages   the model's repeated top-level layers (`layer7.*`) cut into
//            p · v contiguous chunks of as equal a count as they divide into
//            (the ops before the first on the first chunk, those after the
//            last on the last, as Megatron-LM cuts), or with `balance = cost`
//            (and for models with fewer such layers than chunks) cut where
//            their real costs make the largest chunk smallest; chunk j runs on
//            stage j mod p (v > 1: interleaved). Each stage's time is its own
//            layers' real cost: the slowest sets the pace. A cut sends the tensors that cross
//            it, b samples' worth, 1/t per tensor rank (Megatron's
//            scatter/gather), forward and, as gradients, backward, over the
//            link between the stages' devices.
//   pipeline with S_s a stage's forward + backward time per microbatch,
//            step = m · max S + (p − 1)/v · mean S: the bubble is (p − 1)/(v·m)
//            of the step for equal stages, for GPipe and 1F1B alike (they
//            differ in memory).
//   exchange after the last microbatch, the gradients of each device's
//            share of the weights over its d replicas (a moe's over the
//            d / e that hold the same experts): an all-reduce (ZeRO 1
//            and 2: a reduce-scatter of the gradients and an all-gather of the
//            weights, the same bytes); ZeRO 3 instead all-gathers each
//            stage's weights forward and backward and reduce-scatters its
//            gradients every microbatch, overlapped with the microbatch's
//            compute. `overlap` hides the exchange behind the last backward.
//            Every collective crosses the links of the devices it spans: a
//            ring inside a node, or across nodes the faster of a flat ring and
//            a hierarchical one (reduce-scatter inside, all-reduce across at
//            each device's share of the node's network ports, all-gather
//            inside).
//   update   the optimizer's pass over the device's weights (1/d with ZeRO).
//   memory   per device, the largest stage's: weights, gradients, master
//            copy and optimizer state (ZeRO 1 shards the last two over d,
//            2 the gradients too, 3 all four, plus two layers' gathered
//            weights); activations kept for backward (an in-place ReLU's
//            input not twice, memory.hpp) for the microbatches in
//            flight (GPipe m, 1F1B p − s on stage s, interleaved
//            p − s + (p − 1)/v); with selective recomputation without
//            attention's probabilities (recomputed in backward), with full
//            recomputation only each layer's input plus one layer's
//            activations while it is recomputed; a workspace of the largest
//            output.
#pragma once

#include <string>

#include "compiler/plan.hpp"
#include "simulator/simulate.hpp"

namespace dlc::simulator {

// True when an experiment needs this model: hybrid(...), ZeRO,
// microbatches or recomputation.
bool uses_parallel_engine(const compiler::Plan& plan);

// Builds the cost model above (same roots as build()). Fails with a message
// when the layout does not fit the system or the model.
bool build_parallel(const compiler::Plan& plan, Simulation& out, std::string& error);

}  // namespace dlc::simulator
