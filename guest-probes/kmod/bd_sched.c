// SPDX-License-Identifier: GPL-2.0-only
/*
 * bd_sched: marks every guest context switch for bdtrace.
 *
 * Two channels, whichever ivshmem-plain device the host gave the VM:
 *
 * - The ring channel (bd-run --system --channel ring; BAR2 starts with a
 *   system-mode <bd/ring.h> region): each switch is written as a
 *   SCHED_SWITCH record (two slots: record and comms) into kernel ring
 *   smp_processor_id(), stamped with the CPU's counter (bd_arch.h: the
 *   TSC, cntvct_el0); a full ring counts the switch in the ring's
 *   `dropped`. No trap, no exit. The module is also the
 *   guest's clock agent: it answers the host's sync requests (<bd/ring.h>,
 *   SYNC AREA) from the same probe.
 * - The trap channel (BAR2 is <bd/channel.h>): the module performs the
 *   channel handshake so that the plugin learns the BAR's guest-physical
 *   address, fills this CPU's kernel slot with a SCHED_SWITCH record and
 *   executes the bdtrace trap on it (<bd/abi.h>). Without the plugin (plain
 *   QEMU) the handshake is not acknowledged: the module still loads and
 *   counts switches, but writes and traps nothing (unless loaded with
 *   force=1, a testing aid).
 *
 * With neither device the module does not load.
 *
 * bench=N (a benchmark) times N kernel marks at load; see bd_bench_run().
 *
 * Written for Debian's 6.1 kernel (sched_switch probe signature of 6.1),
 * amd64 and arm64 (bd_arch.h holds what differs).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>

#include <bd/abi.h>
#include <bd/channel.h>
#include <bd/record_fill.h>
#include <bd/ring.h>
#include <bd/trap.h>

#include "bd_arch.h"

/* The ring region's layout, computed here from the checked header when it
 * was mapped: the probe never indexes with a value re-read from the BAR. */
struct bd_ring_layout {
	u32 kernel_rings;	 /* rings [0, kernel_rings) are per CPU */
	u64 slot_mask;		 /* ring_slots - 1 */
	struct bd_ring_ctl *ctl; /* ring_count control blocks */
	unsigned char *data;	 /* ring 0's slot 0 */
};

struct bd_state {
	struct pci_dev *pdev; /* referenced and enabled */
	void *bar;	      /* memremap of BAR2 (bar_size bytes) */
	size_t bar_size;
	struct tracepoint *tp_switch; /* sched_switch, probe registered */
	bool live;		      /* handshake acknowledged (or force=1): trap */
	bool ring;		      /* BAR2 is a ring region: write, no trap */
	struct bd_ring_layout rl;     /* when ring */
};

static struct bd_state bd;

/* Testing aid: write records and trap even when the handshake was not
 * answered (plain QEMU), so that the record path runs without the plugin
 * and the records can be inspected in the channel file afterwards. */
static bool force;
module_param(force, bool, 0444);
MODULE_PARM_DESC(force,
		 "mark switches even if the bdtrace plugin did not answer the handshake (testing)");

/* Benchmark (bench/vm/bench-system.sh): at load, after the handshake, time
 * this many kernel marks and as many record fills without the trap, and
 * print both per mark. 0 (the default) skips it. */
static ulong bench;
module_param(bench, ulong, 0444);
MODULE_PARM_DESC(bench, "at load, time N kernel marks against N record fills without the trap and "
			"print ns per mark (benchmark; 0 = off)");

/*
 * Per-CPU state touched by the probe only. sched_switch fires inside
 * __schedule() with the runqueue lock held and interrupts disabled, so the
 * probe never nests on a CPU and plain __this_cpu ops are safe (no NMI
 * context switches either).
 */
struct bd_cpu_stats {
	u64 seq;	  /* records written by this CPU = switches marked */
	u64 seen;	  /* switches seen */
	u64 no_slot;	  /* switches on a CPU >= BD_CHANNEL_KERNEL_SLOTS */
	u64 reply_ok;	  /* replies BD_REPLY_OK */
	u64 filtered;	  /* replies BD_REPLY_FILTERED (not recording) */
	u64 rejected;	  /* replies BD_REPLY_REJECTED: a bug on one side */
	u64 unanswered;	  /* reply still BD_REPLY_NONE (or unknown) */
	u64 skipped;	  /* not sent: the enable bitmap said disabled */
	u64 ring_head;	  /* ring channel: slots this CPU published in its ring */
	u64 ring_dropped; /* ring channel: switches not written, ring full */
	u64 sync_answers; /* ring channel: host sync requests answered */
};
static DEFINE_PER_CPU(struct bd_cpu_stats, bd_stats);

static inline struct bd_channel_header *bd_header(void)
{
	return bd.bar;
}

static inline struct bd_record *bd_kernel_slot(unsigned int cpu)
{
	return (struct bd_record *)((char *)bd.bar + BD_CHANNEL_KERNEL_OFFSET) + cpu;
}

/* comm is copied without task_lock(): taking it inside __schedule() could
 * deadlock. A comm being renamed concurrently is at worst mixed; the copy is
 * always NUL-terminated within its BD_COMM_LEN bytes. */
static __always_inline void bd_copy_comm(char *dst, const struct task_struct *t)
{
	BUILD_BUG_ON(TASK_COMM_LEN != BD_COMM_LEN);
	memcpy(dst, t->comm, BD_COMM_LEN);
	dst[BD_COMM_LEN - 1] = '\0';
}

/* ---- ring channel ------------------------------------------------------ */

/* The SCHED_SWITCH payload (layout in <bd/channel.h>), the same in a
 * channel slot and in a ring record: args, the sender's ids and the two
 * comms (text: prev, then next). */
static __always_inline void bd_fill_switch(u64 args[4], u32 *pid, u32 *tid, char *text,
					   struct task_struct *prev, struct task_struct *next,
					   unsigned int prev_state)
{
	args[0] = (u64)(u32)prev->pid;
	args[1] = (u64)(u32)next->pid;
	args[2] = prev_state;
	args[3] = (u64)(u32)prev->tgid | ((u64)(u32)next->tgid << 32);
	*pid = (u32)prev->tgid;
	*tid = (u32)prev->pid;
	bd_copy_comm(&text[0], prev);
	bd_copy_comm(&text[BD_COMM_LEN], next);
}

static inline struct bd_ring_region *bd_ring_header(void)
{
	return bd.bar;
}

static inline void *bd_ring_slot(unsigned int ring, u64 k)
{
	return bd.rl.data + ((size_t)ring * (bd.rl.slot_mask + 1) + (size_t)(k & bd.rl.slot_mask)) *
				    BD_RING_SLOT_SIZE;
}

/* The last sync request a CPU took on (bd_ring_sync_answer). */
static atomic64_t bd_sync_claimed = ATOMIC64_INIT(0);

/* The clock agent (<bd/ring.h>, SYNC AREA): a pending request is answered
 * with this CPU's counter (bd_clock_ordered), by one CPU only: the one
 * that moves bd_sync_claimed to the request. Without the claim a second
 * CPU that saw the same request but was held up (a vCPU thread the host
 * descheduled) could write its reading after the host had moved on to the
 * next request, whose answer it would then replace with a time from before
 * that request: measured, under host load the newest exchanges stopped
 * agreeing with one offset. */
static __always_inline void bd_ring_sync_answer(void)
{
	struct bd_ring_region *h = bd_ring_header();
	u64 req = READ_ONCE(h->sync_request);
	u64 ts;
	s64 seen;

	if (likely(req == READ_ONCE(h->sync_ack)))
		return;
	seen = atomic64_read(&bd_sync_claimed);
	if ((u64)seen == req || atomic64_cmpxchg(&bd_sync_claimed, seen, (s64)req) != seen)
		return; /* another CPU answers it */
	ts = bd_clock_ordered();
	/* Held up since the claim while the host gave up on this request and
	 * asked anew (the answerer of the new one writes sync_guest_ts too):
	 * stay out of the new exchange. */
	if (READ_ONCE(h->sync_request) != req)
		return;
	WRITE_ONCE(h->sync_guest_ts, ts);
	smp_store_release(&h->sync_ack, req);
	__this_cpu_inc(bd_stats.sync_answers);
}

/* One switch into this CPU's kernel ring (<bd/ring.h>, A RING): the probe
 * is the ring's only producer (it never nests on a CPU, see bd_stats), so
 * the head is kept per CPU and only published to the ring. */
static void bd_ring_switch(unsigned int cpu, struct task_struct *prev, struct task_struct *next,
			   unsigned int prev_state)
{
	struct bd_ring_ctl *ctl;
	struct bd_ring_record *r;
	struct bd_ring_text *x;
	u64 head, tail;

	bd_ring_sync_answer();
	if (unlikely(cpu >= bd.rl.kernel_rings)) {
		__this_cpu_inc(bd_stats.no_slot);
		return;
	}
	if (!(READ_ONCE(bd_ring_header()->enable[BD_ENABLE_BIT_SCHED / 64]) >>
		      (BD_ENABLE_BIT_SCHED % 64) &
	      1)) {
		__this_cpu_inc(bd_stats.skipped);
		return;
	}
	ctl = &bd.rl.ctl[cpu];
	head = __this_cpu_read(bd_stats.ring_head);
	tail = smp_load_acquire(&ctl->tail);
	if (head - tail + 2 > bd.rl.slot_mask + 1) {
		/* Full (or a tail no honest consumer writes): count, the
		 * consumer reports the growth. */
		WRITE_ONCE(ctl->dropped, READ_ONCE(ctl->dropped) + 1);
		__this_cpu_inc(bd_stats.ring_dropped);
		return;
	}
	r = bd_ring_slot(cpu, head);
	x = bd_ring_slot(cpu, head + 1);
	r->ts = bd_clock();
	r->kind = BD_KIND_SCHED_SWITCH;
	r->text_len = 0;
	r->event = 0;
	bd_fill_switch(r->args, &r->pid, &r->tid, x->text, prev, next, prev_state);
	r->seq = __this_cpu_inc_return(bd_stats.seq);
	memset(&x->text[2 * BD_COMM_LEN], 0, sizeof(x->text) - 2 * BD_COMM_LEN);
	__this_cpu_write(bd_stats.ring_head, head + 2);
	/* Both slots published by one store (release: contents first). */
	smp_store_release(&ctl->head, head + 2);
	__this_cpu_inc(bd_stats.reply_ok);
}

/* ---- the probe ---------------------------------------------------------- */

static void bd_probe_sched_switch(void *data, bool preempt, struct task_struct *prev,
				  struct task_struct *next, unsigned int prev_state)
{
	/* Preemption (and interrupts) are disabled here: see bd_stats. */
	unsigned int cpu = smp_processor_id();
	struct bd_record *r;

	__this_cpu_inc(bd_stats.seen);
	if (!READ_ONCE(bd.live))
		return;
	if (bd.ring) {
		bd_ring_switch(cpu, prev, next, prev_state);
		return;
	}
	if (unlikely(cpu >= BD_CHANNEL_KERNEL_SLOTS)) {
		__this_cpu_inc(bd_stats.no_slot);
		return;
	}

	/* The plugin's enable bitmap for this vCPU (<bd/channel.h>; guest CPU
	 * numbers are QEMU's vCPU indexes): a switch it would drop for certain
	 * costs no trap. */
	if (!(READ_ONCE(bd_header()->enable[cpu][BD_ENABLE_BIT_SCHED / 64]) >>
		      (BD_ENABLE_BIT_SCHED % 64) &
	      1)) {
		__this_cpu_inc(bd_stats.skipped);
		return;
	}

	r = bd_kernel_slot(cpu);
	/* The common fields, then what a switch carries in args, pid, tid and
	 * text. */
	bd_record_fill_header(r, BD_KIND_SCHED_SWITCH, 0, 0, 0, 0, 0, 0, 0,
			      __this_cpu_inc_return(bd_stats.seq));
	bd_fill_switch(r->args, &r->pid, &r->tid, r->text, prev, next, prev_state);
	memset(&r->text[2 * BD_COMM_LEN], 0, sizeof(r->text) - 2 * BD_COMM_LEN);

	/* The "memory" clobber orders the record stores before the trap. The
	 * plugin answers synchronously, after the trap's load. */
	bd_trap(r);
	switch (READ_ONCE(r->reply)) {
	case BD_REPLY_OK:
		__this_cpu_inc(bd_stats.reply_ok);
		break;
	case BD_REPLY_FILTERED:
		__this_cpu_inc(bd_stats.filtered);
		break;
	case BD_REPLY_REJECTED:
		__this_cpu_inc(bd_stats.rejected);
		break;
	default:
		__this_cpu_inc(bd_stats.unanswered);
		break;
	}
}

/* ---- bench=N ------------------------------------------------------------ */

/* Event id of the benchmark's marks (any id; reports show it as a number). */
#define BD_BENCH_EVENT 0xbdbeu
/* bench=N is split into this many rounds of each kind, run alternately; the
 * best round counts (as the user-space bench keeps its best repetition). */
#define BD_BENCH_ROUNDS 5u

/* The fields a user-space mark fills (libbdguest's record fill), kind MARK. */
static __always_inline void bd_bench_fill(struct bd_record *r, u64 i, u64 seq)
{
	bd_record_fill_header(r, BD_KIND_MARK, BD_BENCH_EVENT, i, 2, 3, 4, (u32)current->tgid,
			      (u32)current->pid, seq);
}

/* noinline, both: one call per iteration, like a mark through libbdguest. */
static noinline int bd_bench_mark(struct bd_record *r, u64 i, u64 seq)
{
	bd_bench_fill(r, i, seq);
	bd_trap(r);
	return READ_ONCE(r->reply) == BD_REPLY_OK;
}

static noinline int bd_bench_fill_only(struct bd_record *r, u64 i, u64 seq)
{
	bd_bench_fill(r, i, seq);
	/* Where the trap would be: the record must count as read. */
	asm volatile("" : : "r"(r) : "memory");
	return READ_ONCE(r->reply) == BD_REPLY_OK;
}

/* One timed round of n marks (trap) or fills (!trap) into this CPU's kernel
 * slot, preemption disabled so that neither the slot nor the CPU changes and
 * bd_probe_sched_switch cannot run on this CPU meanwhile. Returns its ns, or
 * U64_MAX on a CPU without a slot. */
static u64 bd_bench_round(bool trap, u64 n, u64 *seq, u64 *taken)
{
	struct bd_record *r;
	unsigned int cpu;
	u64 t0, t1, i, ok = 0;

	preempt_disable();
	cpu = smp_processor_id();
	if (cpu >= BD_CHANNEL_KERNEL_SLOTS) {
		preempt_enable();
		return U64_MAX;
	}
	r = bd_kernel_slot(cpu);
	t0 = ktime_get_ns();
	if (trap) {
		for (i = 0; i < n; i++)
			ok += bd_bench_mark(r, i, ++*seq);
	} else {
		for (i = 0; i < n; i++)
			ok += bd_bench_fill_only(r, i, ++*seq);
	}
	t1 = ktime_get_ns();
	preempt_enable();
	*taken += ok;
	return t1 - t0;
}

/* Picoseconds per operation, printed as ns with two decimals. */
static u64 bd_bench_ps(u64 ns, u64 n)
{
	return div64_u64(ns * 1000, n);
}

static void bd_bench_run(u64 total)
{
	const u64 rounds = total >= BD_BENCH_ROUNDS ? BD_BENCH_ROUNDS : 1;
	const u64 n = div64_u64(total, rounds);
	u64 best_mark = U64_MAX, best_fill = U64_MAX, seq = 0, taken = 0, unused = 0;
	u64 k, ns;

	for (k = 0; k < rounds; k++) {
		ns = bd_bench_round(true, n, &seq, &taken);
		if (ns == U64_MAX)
			goto no_slot;
		best_mark = min(best_mark, bd_bench_ps(ns, n));
		ns = bd_bench_round(false, n, &seq, &unused);
		if (ns == U64_MAX)
			goto no_slot;
		best_fill = min(best_fill, bd_bench_ps(ns, n));
		cond_resched();
	}
	pr_info("bench %llu marks: %llu.%02llu ns/mark, baseline %llu.%02llu ns (best of %llu "
		"rounds of %llu; %llu of %llu marks taken by the plugin)\n",
		n * rounds, best_mark / 1000, (best_mark % 1000) / 10, best_fill / 1000,
		(best_fill % 1000) / 10, rounds, n, taken, n * rounds);
	return;
no_slot:
	pr_warn("bench: skipped, running on a CPU without a kernel slot (>= %u)\n",
		BD_CHANNEL_KERNEL_SLOTS);
}

static void bd_find_tracepoint(struct tracepoint *tp, void *priv)
{
	struct tracepoint **found = priv;

	if (!*found && strcmp(tp->name, "sched_switch") == 0)
		*found = tp;
}

/* A system-mode ring region (<bd/ring.h>) in BAR2, `len` bytes mapped at
 * bd.bar? Its header was written by the host; its layout must be the one
 * the ring.h helpers compute. On success fills bd.rl. */
static int bd_check_ring(struct pci_dev *pdev, size_t len)
{
	struct bd_ring_region h;
	u64 size;

	memcpy(&h, bd.bar, sizeof(h));
	if (h.version != BD_RING_VERSION || h.slot_size != BD_RING_SLOT_SIZE ||
	    h.mode != BD_RING_MODE_SYSTEM || h.clock != BD_KMOD_RING_CLOCK) {
		pci_err(pdev,
			"bd_sched: ring region version %u, slot size %u, mode %u, clock %u; this "
			"module speaks version %u, system mode, clock %u (" BD_KMOD_CLOCK_NAME
			"): rebuild the module or bd-run from the same tree\n",
			h.version, h.slot_size, h.mode, h.clock, BD_RING_VERSION,
			BD_KMOD_RING_CLOCK);
		return -ENODEV;
	}
	if (h.ring_count == 0 || h.ring_count > BD_RING_MAX_RINGS || !is_power_of_2(h.ring_slots) ||
	    h.ring_slots < BD_RING_MIN_SLOTS || h.ring_slots > BD_RING_MAX_SLOTS ||
	    h.kernel_rings == 0 || h.kernel_rings > h.ring_count) {
		pci_err(pdev,
			"bd_sched: ring region geometry invalid (%u rings of %u slots, %u kernel "
			"rings)\n",
			h.ring_count, h.ring_slots, h.kernel_rings);
		return -ENODEV;
	}
	size = bd_ring_region_size(h.ring_count, h.ring_slots);
	if (h.claims_offset != bd_ring_claims_offset() ||
	    h.ctl_offset != bd_ring_ctl_offset(h.ring_count) ||
	    h.data_offset != bd_ring_data_offset(h.ring_count) || h.region_size != size ||
	    size > len) {
		pci_err(pdev,
			"bd_sched: ring region layout does not match <bd/ring.h> (or exceeds "
			"BAR2's %zu bytes)\n",
			len);
		return -ENODEV;
	}
	if (nr_cpu_ids > h.kernel_rings)
		pci_warn(pdev,
			 "bd_sched: %u kernel rings for %u CPUs: switches on CPUs >= %u are not "
			 "marked (bd-run --smp sets both)\n",
			 h.kernel_rings, nr_cpu_ids, h.kernel_rings);
	bd.rl.kernel_rings = h.kernel_rings;
	bd.rl.slot_mask = (u64)h.ring_slots - 1;
	bd.rl.ctl = (struct bd_ring_ctl *)((char *)bd.bar + h.ctl_offset);
	bd.rl.data = (unsigned char *)bd.bar + h.data_offset;
	bd.ring = true;
	return 0;
}

/* Maps BAR2 of an enabled device and checks what it holds: a ring region
 * or a trap channel. On success bd.bar is set (and bd.ring/bd.rl for a
 * ring); on failure everything done here is undone. */
static int bd_map_channel(struct pci_dev *pdev)
{
	size_t len = pci_resource_len(pdev, 2);
	struct bd_channel_header *h;
	u32 magic;
	u16 version;
	int err;

	if (!(pci_resource_flags(pdev, 2) & IORESOURCE_MEM) || len < BD_RING_HEADER_SIZE) {
		pci_info(pdev,
			 "bd_sched: BAR2 missing or smaller than a page; not a bdtrace device\n");
		return -ENODEV;
	}
	h = memremap(pci_resource_start(pdev, 2), len, MEMREMAP_WB);
	if (!h) {
		pci_err(pdev, "bd_sched: cannot map BAR2 (%pR)\n", &pdev->resource[2]);
		return -ENOMEM;
	}
	bd.bar = h;
	bd.bar_size = len;
	magic = READ_ONCE(h->magic);
	if (magic == BD_RING_MAGIC) {
		err = bd_check_ring(pdev, len);
		if (err)
			goto fail;
		return 0;
	}
	err = -ENODEV;
	version = READ_ONCE(h->version);
	if (magic != BD_CHANNEL_MAGIC) {
		pci_info(pdev,
			 "bd_sched: BAR2 magic is 0x%08x, expected 0x%08x (trap channel) or 0x%08x "
			 "(ring); not a bdtrace device (is the host file initialised by bd-run or "
			 "the plugin?)\n",
			 magic, BD_CHANNEL_MAGIC, BD_RING_MAGIC);
		goto fail;
	}
	if (len < BD_CHANNEL_SIZE) {
		pci_info(pdev, "bd_sched: BAR2 smaller than %u bytes; not a bdtrace channel\n",
			 BD_CHANNEL_SIZE);
		goto fail;
	}
	if (version != BD_CHANNEL_VERSION) {
		pci_err(pdev,
			"bd_sched: channel version %u, this module speaks %u; rebuild the module "
			"or the plugin from the same tree\n",
			version, BD_CHANNEL_VERSION);
		goto fail;
	}
	return 0;
fail:
	memunmap(h);
	bd.bar = NULL;
	return err;
}

/* Finds the ivshmem device whose BAR2 is a bdtrace ring region or channel
 * (the first one found). On success bd.pdev holds a reference, is enabled,
 * and bd.bar maps its BAR2. */
static int bd_open_channel(void)
{
	struct pci_dev *pdev = NULL;
	int err = -ENODEV;

	/* pci_get_device() drops the reference on its 'from' argument. */
	while ((pdev = pci_get_device(BD_IVSHMEM_VENDOR, BD_IVSHMEM_DEVICE, pdev))) {
		err = pci_enable_device(pdev);
		if (err) {
			pci_warn(pdev, "bd_sched: cannot enable device (%d); skipping\n", err);
			continue;
		}
		err = bd_map_channel(pdev);
		if (!err) {
			bd.pdev = pdev;
			return 0;
		}
		pci_disable_device(pdev);
	}
	pr_err("no ivshmem device (%04x:%04x) with a bdtrace channel (magic 0x%08x) or ring (magic "
	       "0x%08x) in BAR2; start QEMU with -device ivshmem-plain,memdev=... on an "
	       "initialised file (bd-run --system does)\n",
	       BD_IVSHMEM_VENDOR, BD_IVSHMEM_DEVICE, BD_CHANNEL_MAGIC, BD_RING_MAGIC);
	return err == -ENOMEM ? err : -ENODEV;
}

static void bd_close_channel(void)
{
	memunmap(bd.bar);
	bd.bar = NULL;
	pci_disable_device(bd.pdev);
	pci_dev_put(bd.pdev);
	bd.pdev = NULL;
}

/* Ring channel: each CPU's producer continues from its ring's published
 * head (0 in a fresh region; where a previous load stopped otherwise). */
static void bd_ring_start(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
	{
		if ((u32)cpu < bd.rl.kernel_rings)
			per_cpu_ptr(&bd_stats, cpu)->ring_head = READ_ONCE(bd.rl.ctl[cpu].head);
	}
}

/* The handshake of <bd/channel.h>: a fresh nonce, a trap on offset 0, and the
 * plugin's ack, with the same manners as libbdguest's: a guest process's
 * handshake may be in flight (its nonce written, its trap to come), and
 * overwriting that nonce would make its trap find none, which the plugin
 * counts as a rejected record (bad_slot). So the nonce goes in only where
 * the field is free; a nonce that stays 0.5 to 1 s (its owner died between
 * writing and trapping, or no plugin takes it) is overwritten. Returns
 * true when the plugin answered. */
enum { BD_HANDSHAKE_POLITE_TRIES = 100, BD_HANDSHAKE_TRIES = 5 };

static bool bd_handshake(void)
{
	struct bd_channel_header *h = bd_header();
	u64 *field = (u64 *)&h->handshake_nonce;
	u64 nonce;
	int attempt, tries;

	for (attempt = 0; attempt < BD_HANDSHAKE_TRIES; attempt++) {
		do {
			nonce = get_random_u64();
		} while (!nonce);
		for (tries = 0; cmpxchg(field, (u64)0, nonce) != 0; tries++) {
			if (tries == BD_HANDSHAKE_POLITE_TRIES) {
				WRITE_ONCE(*field, nonce);
				break;
			}
			usleep_range(5000, 10000);
		}
		bd_trap_at(h);
		/* The plugin answers inside the trap's callback; a short grace
		 * period only guards against a slower backend. */
		for (tries = 0; tries < 10; tries++) {
			if (READ_ONCE(h->handshake_ack) == nonce)
				return true;
			usleep_range(1000, 2000);
		}
		/* Still ours: nobody took it; withdraw it (only ours). */
		if (cmpxchg(field, nonce, (u64)0) == nonce)
			return false;
		/* Taken or overwritten by a handshake racing with ours: the
		 * plugin is there; again. */
	}
	return false;
}

static int __init bd_sched_init(void)
{
	struct tracepoint *tp = NULL;
	bool acked;
	int err;

	BUILD_BUG_ON(sizeof(struct bd_record) != BD_RECORD_SIZE);
	BUILD_BUG_ON(sizeof(struct bd_channel_header) > BD_CHANNEL_KERNEL_OFFSET);
	BUILD_BUG_ON(BD_CHANNEL_KERNEL_OFFSET + BD_CHANNEL_KERNEL_SLOTS * BD_RECORD_SIZE >
		     BD_CHANNEL_CLAIMS_OFFSET);

	err = bd_open_channel();
	if (err)
		return err;

	if (bd.ring) {
		/* No plugin to tell: the host consumer drains the rings. */
		acked = true;
		bd_ring_start();
		bd.live = true;
		if (bench)
			pci_notice(bd.pdev, "bd_sched: bench= times the trap channel; ignored on "
					    "the ring channel\n");
	} else {
		acked = bd_handshake();
		bd.live = acked || force;
		if (!acked && force) {
			pci_notice(bd.pdev, "bd_sched: the bdtrace plugin did not answer the "
					    "handshake; marking anyway (force=1)\n");
		} else if (!acked) {
			pci_notice(
				bd.pdev,
				"bd_sched: the bdtrace plugin did not answer the handshake (QEMU "
				"runs without it?); counting switches only, marking none\n");
		}

		/* Before the probe exists: the benchmark has the slots to
		 * itself. It traps even without the plugin, where the trap is a
		 * plain load. */
		if (bench)
			bd_bench_run(bench);
	}

	for_each_kernel_tracepoint(bd_find_tracepoint, &tp);
	if (!tp) {
		pr_err("tracepoint sched_switch not found; this kernel is not supported\n");
		err = -ENOENT;
		goto fail;
	}
	err = tracepoint_probe_register(tp, (void *)bd_probe_sched_switch, NULL);
	if (err) {
		pr_err("cannot register the sched_switch probe (%d)\n", err);
		goto fail;
	}
	bd.tp_switch = tp;

	pci_info(bd.pdev, "bd_sched: loaded, %s in BAR2 %pR, %s\n", bd.ring ? "ring" : "channel",
		 &bd.pdev->resource[2],
		 bd.ring    ? "writing context switches into the kernel rings"
		 : !bd.live ? "plugin absent: counting switches only"
		 : acked    ? "plugin present: marking context switches"
			    : "plugin absent: marking anyway (force=1)");
	return 0;

fail:
	bd_close_channel();
	return err;
}

static void bd_sum_stats(struct bd_cpu_stats *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu)
	{
		const struct bd_cpu_stats *c = per_cpu_ptr(&bd_stats, cpu);

		sum->seq += c->seq;
		sum->seen += c->seen;
		sum->no_slot += c->no_slot;
		sum->reply_ok += c->reply_ok;
		sum->filtered += c->filtered;
		sum->rejected += c->rejected;
		sum->unanswered += c->unanswered;
		sum->skipped += c->skipped;
		sum->ring_dropped += c->ring_dropped;
		sum->sync_answers += c->sync_answers;
	}
}

static void __exit bd_sched_exit(void)
{
	struct bd_cpu_stats sum;

	tracepoint_probe_unregister(bd.tp_switch, (void *)bd_probe_sched_switch, NULL);
	/* No probe runs past this point, so the mapping can go. */
	tracepoint_synchronize_unregister();
	bd_close_channel();

	bd_sum_stats(&sum);
	pr_info("unloaded, marked %llu switches (%llu seen; replies: %llu ok, %llu filtered, %llu "
		"rejected, %llu unanswered; %llu on CPUs without a slot; %llu skipped by the "
		"enable bitmap)\n",
		sum.seq, sum.seen, sum.reply_ok, sum.filtered, sum.rejected, sum.unanswered,
		sum.no_slot, sum.skipped);
	if (bd.ring)
		pr_info("ring channel: %llu switches dropped (ring full), %llu clock sync requests "
			"answered\n",
			sum.ring_dropped, sum.sync_answers);
}

module_init(bd_sched_init);
module_exit(bd_sched_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("bdtrace: marks guest context switches through the bdtrace ivshmem channel");
MODULE_AUTHOR("bdtrace");
