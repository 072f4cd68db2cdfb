//! Spikes: threshold crossings of presynaptic voltages, delivered as events after each
//! connection's delay to the synapses they drive — the rules of NEURON's `NetCon`, which
//! jNeuroML's export creates for every connection of a spiking `<projection>`
//! (`new NetCon(&v(0.5), syn, threshold, delay, weight)` on the presynaptic segment; see
//! `docs/events.md`):
//!
//! - a source spikes at time t when v(t) > threshold and it was not above threshold at
//!   its previous check (NEURON's `PreSyn::check` with its `flag`); sources are checked
//!   at t = 0 and after every step, on the step's voltages, and the spike is recorded at
//!   t (NEURON's fixed step);
//! - the spike is an event at c + delay for each of its targets, c being when v crossed
//!   the threshold, linearly between the two checks (NEURON's fixed step uses t, up to a
//!   step late; its variable step interpolates); at every check the events due by
//!   t + dt/2 are delivered, in time order (ties in the order they were sent), before the
//!   next step, so a zero-delay event changes the synapse before the step from t
//!   (NEURON's `deliver_net_events`). `receive` gets each event's time, so that the
//!   synapse can act at it (`LemsSynapses::receive`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Where one source's events go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// Index of the synapse type (into the simulation's LEMS synapses).
    pub synapses: usize,
    /// Instance of that type.
    pub instance: usize,
    /// Its event handler (from `CompiledDynamics::event_port`).
    pub port: usize,
    /// Delay \[ms\].
    pub delay: f64,
    /// The connection's weight.
    pub weight: f64,
}

/// An event waiting for its time.
#[derive(Debug, Clone, Copy)]
struct Pending {
    time: f64,
    order: u64,
    target: Target,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.time
            .total_cmp(&other.time)
            .then(self.order.cmp(&other.order))
    }
}

/// Every spike source of a network, its targets and the events in flight.
#[derive(Debug, Clone, Default)]
pub struct SpikeSources {
    /// Node each source watches.
    pub node: Vec<usize>,
    /// Its threshold \[mV\].
    pub threshold: Vec<f64>,
    /// Its targets.
    pub targets: Vec<Vec<Target>>,
    /// Spike times of each source since t = 0 \[ms\].
    pub spikes: Vec<Vec<f64>>,
    above: Vec<bool>,
    /// v at the previous check, and its time.
    previous: Vec<f64>,
    previous_t: f64,
    index: HashMap<(usize, u64), usize>,
    queue: BinaryHeap<Reverse<Pending>>,
    sent: u64,
}

impl SpikeSources {
    /// The source watching `node` with `threshold`, added if new.
    pub fn source(&mut self, node: usize, threshold: f64) -> usize {
        let next = self.node.len();
        let k = *self
            .index
            .entry((node, threshold.to_bits()))
            .or_insert(next);
        if k < next {
            return k;
        }
        self.node.push(node);
        self.threshold.push(threshold);
        self.targets.push(Vec::new());
        self.spikes.push(Vec::new());
        self.above.push(false);
        self.previous.push(f64::NAN);
        self.node.len() - 1
    }

    /// Sends the spikes of `source` to `target` from now on.
    pub fn connect(&mut self, source: usize, target: Target) {
        self.targets[source].push(target);
    }

    /// Whether there is no source.
    pub fn is_empty(&self) -> bool {
        self.node.is_empty()
    }

    /// No spike seen, none in flight.
    pub fn initialise(&mut self) {
        self.above.iter_mut().for_each(|a| *a = false);
        self.previous.iter_mut().for_each(|v| *v = f64::NAN);
        self.spikes.iter_mut().for_each(Vec::clear);
        self.queue.clear();
        self.sent = 0;
    }

    /// Sets the clock back by `t` (after a settling run): events in flight keep their
    /// distance in time, the spikes seen so far are forgotten.
    pub fn shift_clock(&mut self, t: f64) {
        let pending: Vec<_> = std::mem::take(&mut self.queue).into_vec();
        self.queue = pending
            .into_iter()
            .map(|Reverse(mut p)| {
                p.time -= t;
                Reverse(p)
            })
            .collect();
        self.previous_t -= t;
        self.spikes.iter_mut().for_each(Vec::clear);
    }

    /// Checks every source at time `t` with voltages `v`, then delivers every event due
    /// by `until` (t + dt/2) through `receive(target)`, in time order, ties in the order
    /// sent. Events of this check that are due by `until` (zero delay, as c302's) skip the
    /// queue: those due at `t` or earlier go after the queued events of those times, then
    /// come the queued events after `t`.
    pub fn check(&mut self, v: &[f64], t: f64, until: f64, mut receive: impl FnMut(&Target, f64)) {
        let mut now: Vec<(Target, f64)> = Vec::new();
        for k in 0..self.node.len() {
            let (x, previous) = (v[self.node[k]], self.previous[k]);
            let above = x > self.threshold[k];
            if above && !self.above[k] {
                self.spikes[k].push(t);
                // When v crossed the threshold, linearly between the two checks.
                let crossing = if previous <= self.threshold[k] && t > self.previous_t {
                    t - (t - self.previous_t) * (x - self.threshold[k]) / (x - previous)
                } else {
                    t
                };
                for target in &self.targets[k] {
                    if target.delay <= 0.0 {
                        now.push((*target, crossing));
                        continue;
                    }
                    self.queue.push(Reverse(Pending {
                        time: crossing + target.delay,
                        order: self.sent,
                        target: *target,
                    }));
                    self.sent += 1;
                }
            }
            self.above[k] = above;
            self.previous[k] = x;
        }
        self.previous_t = t;
        deliver(
            &mut self.queue,
            if now.is_empty() { until } else { t },
            &mut receive,
        );
        if !now.is_empty() {
            now.iter().for_each(|(target, time)| receive(target, *time));
            deliver(&mut self.queue, until, &mut receive);
        }
    }

    /// Number of events in flight.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }
}

/// Delivers the queued events due by `limit`, in time order (ties in the order sent).
fn deliver(
    queue: &mut BinaryHeap<Reverse<Pending>>,
    limit: f64,
    receive: &mut impl FnMut(&Target, f64),
) {
    while queue.peek().is_some_and(|Reverse(p)| p.time <= limit) {
        let Reverse(p) = queue.pop().expect("peeked");
        receive(&p.target, p.time);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(instance: usize, delay: f64) -> Target {
        Target {
            synapses: 0,
            instance,
            port: 0,
            delay,
            weight: 1.0,
        }
    }

    #[test]
    fn a_crossing_spikes_once_and_events_arrive_after_their_delay() {
        let mut s = SpikeSources::default();
        let k = s.source(0, -20.0);
        assert_eq!(s.source(0, -20.0), k);
        s.connect(k, target(7, 0.0));
        s.connect(k, target(8, 1.0));
        let dt = 0.1;
        let mut got = Vec::new();
        // Below, then above for three checks, below, above again: crossings at 0.08 ms
        // (-30 -> -17.5 mV) and 0.425 ms (-25 -> -5 mV).
        let vs = [
            -30.0, -17.5, 0.0, -5.0, -25.0, -5.0, -40.0, -40.0, -40.0, -40.0, -40.0, -40.0, -40.0,
            -40.0, -40.0, -40.0, -40.0,
        ];
        for (n, &v) in vs.iter().enumerate() {
            let t = n as f64 * dt;
            s.check(&[v], t, t + dt / 2.0, |tg, time| {
                got.push((n, tg.instance, (time * 1e6).round() / 1e6))
            });
        }
        // Spikes are recorded at the checks that see them, as NEURON's fixed step does.
        assert_eq!(s.spikes[k].len(), 2);
        assert!((s.spikes[k][0] - 0.1).abs() < 1e-12 && (s.spikes[k][1] - 0.5).abs() < 1e-12);
        // Events carry the crossing time plus the delay. Zero delay: delivered at the
        // check that saw the spike; 1 ms: at the check nearest to their time (due by
        // t + dt/2).
        assert_eq!(
            got,
            vec![(1, 7, 0.08), (5, 7, 0.425), (11, 8, 1.08), (14, 8, 1.425)]
        );
        assert_eq!(s.in_flight(), 0);
    }

    #[test]
    fn zero_delay_events_keep_their_place_in_time_order() {
        let mut s = SpikeSources::default();
        let (a, b) = (s.source(0, 0.0), s.source(1, 0.0));
        s.connect(a, target(1, 0.3)); // sent at 0.2, due at 0.5
        s.connect(a, target(2, 0.32)); // sent at 0.2, due at 0.52: after b's
        s.connect(b, target(3, 0.0)); // sent at 0.5, due at once
        let mut got = Vec::new();
        s.check(&[1.0, -1.0], 0.2, 0.25, |tg, _| got.push(tg.instance));
        assert!(got.is_empty());
        s.check(&[1.0, 1.0], 0.5, 0.55, |tg, _| got.push(tg.instance));
        assert_eq!(got, [1, 3, 2]);
    }

    #[test]
    fn shifting_the_clock_keeps_events_in_flight() {
        let mut s = SpikeSources::default();
        let k = s.source(3, 0.0);
        s.connect(k, target(1, 2.0));
        let mut got = 0;
        s.check(&[0.0, 0.0, 0.0, 5.0], 10.0, 10.05, |_, _| got += 1);
        assert_eq!((got, s.in_flight()), (0, 1));
        s.shift_clock(10.0);
        s.check(&[0.0, 0.0, 0.0, 5.0], 1.9, 1.95, |_, _| got += 1);
        assert_eq!(got, 0);
        s.check(&[0.0, 0.0, 0.0, 5.0], 2.0, 2.05, |_, _| got += 1);
        assert_eq!((got, s.spikes[k].len()), (1, 0));
    }
}
