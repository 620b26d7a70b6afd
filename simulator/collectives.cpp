#include "simulator/collectives.hpp"

#include <fmt/format.h>

namespace dlc::simulator {

bool network_costs(const compiler::Plan& plan, Params& params, NetworkCosts& out, std::string& error) {
  const compiler::PlanSystem& s = plan.system;
  out.devices_per_node = params.add("devices_per_node", static_cast<double>(s.devices_per_node));
  out.nodes = params.add("nodes", static_cast<double>(s.nodes));
  double node_bw = 0, node_lat = 0, net_bw = 0, net_lat = 0;
  if (s.intra_node) {
    node_bw = s.intra_node->bandwidth * s.intra_node->efficiency;
    node_lat = s.intra_node->latency;
    if (s.devices_per_switch > 1 && s.switch_uplink)
      node_bw = std::min(node_bw, s.switch_uplink->bandwidth * s.switch_uplink->efficiency /
                                      static_cast<double>(s.devices_per_switch));
  }
  if (s.network) {
    net_bw = s.network->bandwidth * s.network->efficiency * static_cast<double>(std::max<std::int64_t>(1, s.nics));
    net_lat = s.network->latency;
  }
  if (s.devices_per_node > 1 && node_bw <= 0) {
    error = fmt::format("'{}' has {} devices per node but no link between them: give the node a link",
                        s.name, s.devices_per_node);
    return false;
  }
  if (s.nodes > 1 && net_bw <= 0) {
    error = fmt::format("'{}' has {} nodes but no network between them: give the cluster a network", s.name, s.nodes);
    return false;
  }
  // A link the system does not have is never the bottleneck: evaluate()
  // refuses a configuration that would need it.
  constexpr double kNoLink = 1e30;
  params.constrain(*params.find("devices_per_node"), {1, 1e9, false, true});
  params.constrain(*params.find("nodes"), {1, 1e9, false, true});
  // The framework's collectives reach a fraction of both links' bandwidth.
  Cost efficiency = params.add("software.collective_efficiency", plan.software_collective_efficiency.value_or(1));
  params.constrain(*params.find("software.collective_efficiency"), {0, 1, true, false});
  out.node_bandwidth =
      params.add("intra.bandwidth", node_bw > 0 ? node_bw : kNoLink, lang::dims::bandwidth()) * efficiency;
  out.node_latency = params.add("intra.latency", node_lat, lang::dims::time());
  out.net_bandwidth =
      params.add("network.bandwidth", net_bw > 0 ? net_bw : kNoLink, lang::dims::bandwidth()) * efficiency;
  out.net_latency = params.add("network.latency", net_lat, lang::dims::time());
  params.constrain(*params.find("intra.bandwidth"), {0, 1e300, true, false});
  params.constrain(*params.find("network.bandwidth"), {0, 1e300, true, false});
  return true;
}

Cost allreduce(const std::string& algorithm, const Cost& w, const NetworkCosts& n) {
  Cost d = n.devices_per_node, nodes = n.nodes;
  Cost p = d * nodes;
  Cost one_node = Cost(1.5) - nodes;  // > 0 exactly when there is one node
  // A flat algorithm runs at its slowest hop: the network once nodes are involved.
  Cost beta = select(one_node, n.node_bandwidth, min(n.node_bandwidth, n.net_bandwidth));
  Cost alpha = select(one_node, n.node_latency, max(n.node_latency, n.net_latency));
  Cost t;
  if (algorithm == "tree") {
    t = Cost(2) * w * log2(p) / beta + Cost(2) * log2(p) * alpha;
  } else if (algorithm == "hierarchical") {
    Cost intra = Cost(2) * (d - 1.0) / d * w / n.node_bandwidth + Cost(2) * (d - 1.0) * n.node_latency;
    Cost inter = Cost(2) * (nodes - 1.0) / nodes * w / n.net_bandwidth + Cost(2) * (nodes - 1.0) * n.net_latency;
    t = intra + select(one_node, Cost(0), inter);
  } else if (algorithm == "parameter_server") {
    // One server shard per node; a single node keeps its server on the node's link.
    Cost shards = nodes;
    t = select(one_node, Cost(2) * w * p / n.node_bandwidth + Cost(2) * n.node_latency,
               Cost(2) * w * p / (shards * n.net_bandwidth) + Cost(2) * n.net_latency);
  } else {  // ring
    t = Cost(2) * (p - 1.0) / p * w / beta + Cost(2) * (p - 1.0) * alpha;
  }
  return select(p - 1.5, t, Cost(0));  // nothing to exchange on one worker
}

}  // namespace dlc::simulator
