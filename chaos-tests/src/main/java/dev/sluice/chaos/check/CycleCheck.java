package dev.sluice.chaos.check;

import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Read;
import dev.sluice.chaos.history.Send;
import dev.sluice.chaos.history.Txn;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link Anomaly#WR_CYCLE}: cycles among committed transactions in the read-committed order graph.
 *
 * <h2>The graph</h2>
 *
 * Real nodes are the committed transactions, numbered in id order. An edge {@code Ti -> Tj} stands for "an
 * input poll of Tj returned a record at offset o of partition p, and Ti wrote a record at an offset {@code <= o}
 * of p". Drawing those edges directly would be quadratic, so each partition gets a chain of virtual nodes, one
 * per run of consecutive records of one transaction in offset order: the transaction points to its run's
 * virtual node, each virtual node to the next, and the last virtual node at or below {@code o} points to Tj.
 * A path from Ti to Tj through a chain exists exactly when the edge above does. Virtual nodes never form a
 * cycle alone (a chain only goes forward), so a strongly connected component with two or more real nodes is
 * a cycle of transactions; one with a single real node is a transaction that read at or past its own record,
 * which {@link Anomaly#PRECOMMITTED_READ} or {@link Anomaly#READ_PAST_OPEN_TXN} already reports.
 *
 * <h2>Algorithm</h2>
 *
 * Tarjan's strongly connected components, iterative (a long chain would overflow the call stack), over the
 * graph in compressed sparse row form. For each component with more than one transaction, a breadth-first
 * search from its lowest transaction finds a shortest cycle through it to show as the example. Not
 * thread-safe; used once.
 */
final class CycleCheck {
    private static final int SHIFT = 23;
    private static final long NODE_MASK = (1L << SHIFT) - 1;

    private final HistoryIndex index;
    private final LongLongHashMap positionByValue;
    private final Findings findings;

    private final List<Txn> txns = new ArrayList<>();
    private final LongLongHashMap nodeOfTxn = new LongLongHashMap();
    // Virtual nodes: partition id, first offset of the run, the real node that wrote it.
    private final IntList virtualPartition = new IntList();
    private final LongList virtualOffset = new LongList();
    private final IntList virtualWriter = new IntList();
    // Per partition: the runs' first offsets and their virtual node numbers (without the real-node base).
    private long[][] runOffsets;
    private int[][] runVirtuals;
    // Edges; a poll edge's label is its poll and the highest offset it read in the partition, else -1.
    private final IntList edgeFrom = new IntList();
    private final IntList edgeTo = new IntList();
    private final IntList edgePoll = new IntList();
    private final LongList edgeOffset = new LongList();

    CycleCheck(HistoryIndex index, LongLongHashMap positionByValue, Findings findings) {
        this.index = index;
        this.positionByValue = positionByValue;
        this.findings = findings;
    }

    void run() {
        index.history.txns().stream()
                .filter(Txn::committed)
                .sorted((a, b) -> Long.compare(a.id(), b.id()))
                .forEach(t -> {
                    if (nodeOfTxn.putIfAbsent(t.id(), txns.size(), -1) < 0) {
                        txns.add(t);
                    }
                });
        if (txns.size() >= (1 << SHIFT)) {
            throw new IllegalArgumentException("more than " + (1 << SHIFT) + " committed transactions");
        }
        if (txns.isEmpty()) {
            return;
        }
        buildChains();
        addPollEdges();
        int nodes = txns.size() + virtualWriter.size();
        Graph graph = Graph.of(nodes, edgeFrom, edgeTo);
        int[] component = graph.stronglyConnectedComponents();
        reportCycles(graph, component);
    }

    private void buildChains() {
        int partitions = index.partitionCount();
        LongList[] records = new LongList[partitions];
        for (Send send : index.history.sends()) {
            long node = send.txn() < 0 ? -1 : nodeOfTxn.get(send.txn(), -1);
            long position = positionByValue.get(send.value(), -1);
            if (node < 0 || position < 0) {
                continue;
            }
            int id = HistoryIndex.positionId(position);
            if (records[id] == null) {
                records[id] = new LongList();
            }
            records[id].add((HistoryIndex.positionOffset(position) << SHIFT) | node);
        }
        runOffsets = new long[partitions][];
        runVirtuals = new int[partitions][];
        int base = txns.size();
        for (int id = 0; id < partitions; id++) {
            long[] sorted = records[id] == null ? new long[0] : records[id].toArray();
            Arrays.sort(sorted);
            LongList offsets = new LongList();
            IntList virtuals = new IntList();
            int previousWriter = -1;
            for (long packed : sorted) {
                int writer = (int) (packed & NODE_MASK);
                if (writer == previousWriter) {
                    continue;
                }
                int virtual = virtualWriter.size();
                virtualPartition.add(id);
                virtualOffset.add(packed >>> SHIFT);
                virtualWriter.add(writer);
                addEdge(writer, base + virtual, -1, -1);
                if (virtuals.size() > 0) {
                    addEdge(base + virtuals.get(virtuals.size() - 1), base + virtual, -1, -1);
                }
                offsets.add(packed >>> SHIFT);
                virtuals.add(virtual);
                previousWriter = writer;
            }
            runOffsets[id] = offsets.toArray();
            runVirtuals[id] = new int[virtuals.size()];
            Arrays.setAll(runVirtuals[id], virtuals::get);
        }
    }

    private void addPollEdges() {
        long[] highest = new long[index.partitionCount()];
        Arrays.fill(highest, -1);
        IntList touched = new IntList();
        List<Poll> polls = index.history.polls();
        for (int i = 0; i < polls.size(); i++) {
            Poll poll = polls.get(i);
            long node = poll.txn() < 0 ? -1 : nodeOfTxn.get(poll.txn(), -1);
            if (node < 0
                    || poll.isolation() != Isolation.READ_COMMITTED
                    || poll.completeNs() > txns.get((int) node).endInvokeNs()) {
                continue;
            }
            for (Read r : poll.records()) {
                int id = index.id(r);
                if (highest[id] < 0) {
                    touched.add(id);
                }
                highest[id] = Math.max(highest[id], r.offset());
            }
            for (int k = 0; k < touched.size(); k++) {
                int id = touched.get(k);
                int run = lastRunAtOrBelow(runOffsets[id], highest[id]);
                if (run >= 0) {
                    addEdge(txns.size() + runVirtuals[id][run], (int) node, i, highest[id]);
                }
                highest[id] = -1;
            }
            touched.clear();
        }
    }

    private static int lastRunAtOrBelow(long[] offsets, long offset) {
        int i = Arrays.binarySearch(offsets, offset);
        return i >= 0 ? i : -i - 2;
    }

    private void addEdge(int from, int to, int poll, long offset) {
        edgeFrom.add(from);
        edgeTo.add(to);
        edgePoll.add(poll);
        edgeOffset.add(offset);
    }

    private void reportCycles(Graph graph, int[] component) {
        // Real nodes are numbered in txn id order, so the first real node met of a component is its lowest.
        int[] realCount = new int[graph.nodes()];
        for (int node = 0; node < txns.size(); node++) {
            realCount[component[node]]++;
        }
        boolean[] reported = new boolean[graph.nodes()];
        for (int node = 0; node < txns.size(); node++) {
            int c = component[node];
            if (realCount[c] < 2 || reported[c]) {
                continue;
            }
            reported[c] = true;
            int start = node;
            findings.report(Anomaly.WR_CYCLE, () -> describeCycle(graph, component, start, realCount[c]));
        }
    }

    private String describeCycle(Graph graph, int[] component, int start, int size) {
        int[] cycle = graph.shortestCycleThrough(start, component);
        StringBuilder text = new StringBuilder(size + " committed transactions are strongly connected; a shortest"
                + " cycle through txn " + txns.get(start).id() + ": ");
        int writeEdge = -1;
        List<String> hops = new ArrayList<>();
        for (int edge : cycle) {
            if (edgeFrom.get(edge) < txns.size()) {
                writeEdge = edge;
            } else if (edgeTo.get(edge) < txns.size()) {
                hops.add(describeHop(edgeTo.get(writeEdge) - txns.size(), edge));
            }
        }
        return text.append(String.join("; ", hops)).toString();
    }

    private String describeHop(int virtual, int pollEdge) {
        Txn writer = txns.get(virtualWriter.get(virtual));
        Txn reader = txns.get(edgeTo.get(pollEdge));
        Poll poll = index.history.polls().get(edgePoll.get(pollEdge));
        String partition = index.name(virtualPartition.get(virtual));
        return "txn " + writer.id() + " -> txn " + reader.id() + ": txn " + writer.id() + " wrote " + partition + "@"
                + virtualOffset.get(virtual) + " and txn " + reader.id() + "'s input " + Describe.poll(poll)
                + " read " + partition + " up to offset " + edgeOffset.get(pollEdge);
    }

    /** A directed graph in compressed sparse row form. Immutable. */
    private record Graph(int[] firstEdge, int[] targets, int[] edgeIds) {
        static Graph of(int nodes, IntList from, IntList to) {
            int[] first = new int[nodes + 1];
            for (int e = 0; e < from.size(); e++) {
                first[from.get(e) + 1]++;
            }
            for (int n = 0; n < nodes; n++) {
                first[n + 1] += first[n];
            }
            int[] next = Arrays.copyOf(first, nodes);
            int[] targets = new int[from.size()];
            int[] ids = new int[from.size()];
            for (int e = 0; e < from.size(); e++) {
                int slot = next[from.get(e)]++;
                targets[slot] = to.get(e);
                ids[slot] = e;
            }
            return new Graph(first, targets, ids);
        }

        int nodes() {
            return firstEdge.length - 1;
        }

        /** @return each node's component number (Tarjan, iterative) */
        int[] stronglyConnectedComponents() {
            int n = nodes();
            int[] order = new int[n];
            Arrays.fill(order, -1);
            int[] low = new int[n];
            int[] component = new int[n];
            boolean[] onStack = new boolean[n];
            int[] stack = new int[n];
            int[] calls = new int[n];
            int[] cursor = new int[n];
            int stackSize = 0;
            int counter = 0;
            int components = 0;
            for (int root = 0; root < n; root++) {
                if (order[root] >= 0) {
                    continue;
                }
                int depth = 0;
                calls[depth++] = root;
                order[root] = low[root] = counter++;
                cursor[root] = firstEdge[root];
                stack[stackSize++] = root;
                onStack[root] = true;
                while (depth > 0) {
                    int v = calls[depth - 1];
                    if (cursor[v] < firstEdge[v + 1]) {
                        int w = targets[cursor[v]++];
                        if (order[w] < 0) {
                            order[w] = low[w] = counter++;
                            cursor[w] = firstEdge[w];
                            stack[stackSize++] = w;
                            onStack[w] = true;
                            calls[depth++] = w;
                        } else if (onStack[w]) {
                            low[v] = Math.min(low[v], order[w]);
                        }
                        continue;
                    }
                    depth--;
                    if (depth > 0) {
                        int parent = calls[depth - 1];
                        low[parent] = Math.min(low[parent], low[v]);
                    }
                    if (low[v] == order[v]) {
                        int w;
                        do {
                            w = stack[--stackSize];
                            onStack[w] = false;
                            component[w] = components;
                        } while (w != v);
                        components++;
                    }
                }
            }
            return component;
        }

        /** @return the edge ids of a shortest cycle from {@code start} back to it, within its component */
        int[] shortestCycleThrough(int start, int[] component) {
            int[] parentEdge = new int[nodes()];
            int[] parent = new int[nodes()];
            Arrays.fill(parentEdge, -1);
            ArrayDeque<Integer> queue = new ArrayDeque<>();
            queue.add(start);
            while (!queue.isEmpty()) {
                int v = queue.poll();
                for (int slot = firstEdge[v]; slot < firstEdge[v + 1]; slot++) {
                    int w = targets[slot];
                    if (component[w] != component[start]) {
                        continue;
                    }
                    if (w == start) {
                        return path(parent, parentEdge, start, v, edgeIds[slot]);
                    }
                    if (parentEdge[w] < 0) {
                        parentEdge[w] = edgeIds[slot];
                        parent[w] = v;
                        queue.add(w);
                    }
                }
            }
            throw new IllegalStateException("node " + start + " is on no cycle of its component");
        }

        private static int[] path(int[] parent, int[] parentEdge, int start, int last, int closingEdge) {
            IntList reversed = new IntList();
            reversed.add(closingEdge);
            for (int v = last; v != start; v = parent[v]) {
                reversed.add(parentEdge[v]);
            }
            int[] edges = new int[reversed.size()];
            for (int k = 0; k < edges.length; k++) {
                edges[k] = reversed.get(edges.length - 1 - k);
            }
            return edges;
        }
    }
}
