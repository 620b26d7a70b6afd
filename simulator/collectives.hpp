// All-reduce of w bytes of gradients across p workers, as cost expressions.
// With β a link's bandwidth (per direction, times its efficiency) and α its
// latency:
//
//   tree (the Deep Learning Cookbook's model):  2 · w · log2(p) / β
//   ring (Patarasuk and Yuan, 2009):            2 (p−1)/p · w/β + 2 (p−1) · α
//   hierarchical (intra-node ring over the d devices of a node, then a ring
//   over the n nodes, NCCL-style):              2 (d−1)/d · w/β_node + 2 (d−1) · α_node
//                                             + 2 (n−1)/n · w/β_net  + 2 (n−1) · α_net
//   parameter server (one shard per node, each worker pushes its gradients
//   and pulls the weights):                     2 · w · p / (n · β_net) + 2 · α_net
//
// A flat tree or ring over several nodes runs at the slower of the node's
// link and its network ports (β_net × nics). GPUs behind one PCIe switch share
// its uplink: a device's share is min(β_link, β_uplink / devices per switch).
//
// Every formula assumes a full-bisection network between the nodes (a switch
// or a fat tree: each ring step crosses it at a node's full port bandwidth);
// the checker refuses `topology = ring | torus | dragonfly` rather than give
// their figures as a fat tree's.
#pragma once

#include <string>

#include "compiler/plan.hpp"
#include "simulator/cost.hpp"

namespace dlc::simulator {

struct NetworkCosts {
  Cost devices_per_node;  // d
  Cost nodes;             // n
  Cost node_bandwidth, node_latency;  // between the devices of a node
  Cost net_bandwidth, net_latency;    // between nodes, all ports of a node together
};

// Registers the system's parameters (devices_per_node, nodes,
// intra.bandwidth, network.bandwidth, ...). Fails when the system has more
// than one device but no link to reach them, or a link of zero bandwidth.
bool network_costs(const compiler::Plan& plan, Params& params, NetworkCosts& out, std::string& error);

// Time of one all-reduce of `bytes` with the named algorithm: tree, ring,
// hierarchical, parameter_server. Zero on one worker.
Cost allreduce(const std::string& algorithm, const Cost& bytes, const NetworkCosts& n);

}  // namespace dlc::simulator
