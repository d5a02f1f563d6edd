/* dfsae_model_train(_source): epochs of shuffled batches over the public
 * verb dfsae_train_step, pulled from a source. */
#include <limits.h>
#include <string.h>

#include "data/source.h"
#include "dist/dist.h"
#include "loss/loss.h"
#include "model.h"
#include "optim/optim.h"
#include "parallel/helper.h"
#include "train/prefetch.h"
#include "train/train.h"

/* How an epoch's rows are ordered and fetched. */
enum { IN_ORDER, PERMUTED, CHUNKED, CHUNKED_WINDOW };

struct run;

/* One batch, fetched (read, widened, checked) into a buffer of its own:
 * the steps alternate between two, so that the helper can fetch the next
 * batch while this one trains. The fetch writes only its slot (never the
 * model's message), so a failure is reported when the step that needs it
 * comes, as if it had been read just then. */
typedef struct fetched {
    struct run *r;
    float *buf;      /* max_rows x D (NULL: the source is used in place) */
    size_t first;    /* position of the batch in the epoch's order */
    size_t rows;     /* rows of the global batch */
    const float *Xb; /* the batch: buf, or the array in place */
    size_t local;    /* its rows on this rank */
    int st;          /* of the fetch */
    char err[DFSAE_ERR_LEN];
} fetched;

/* The second half of a batch fetched inline: read on the helper while the
 * caller reads the first, through a copy of the source that has a staging
 * buffer of its own. */
typedef struct half_fetch {
    dfsae_source src;
    const size_t *rows;
    size_t count;
    float *out;
    int st;
    char err[DFSAE_ERR_LEN];
} half_fetch;

/* Everything a run needs, allocated once per call. */
typedef struct run {
    dfsae_model *m;
    dfsae_optimizer *opt;
    dfsae_source *src;
    size_t n_local, row0;   /* this rank's rows of the data: [row0, +n_local) */
    int split;              /* data-parallel: gather only this rank's rows */
    dfsae_batch_plan plan;  /* a whole epoch */
    dfsae_batch_plan first; /* the first epoch: from the run state's row */
    size_t *idx;            /* the epoch's order of rows */
    fetched batches[2];     /* step s's: batch_of */
    dfsae_helper *helper;   /* fetches the next batch or half of this one */
    int policy;             /* DFSAE_TRAIN_FETCH */
    dfsae__prefetch_probe probe; /* whether it is (prefetch.h) */
    int splits;                  /* an inline fetch is split with the helper */
    half_fetch half;             /* its second half */
    void *half_stage;            /* half.src's staging buffer (a half type's) */
    size_t *local; /* data-parallel: this rank's rows of a batch */
    int mode;
    size_t chunk, window; /* of the chunked shuffle */
    size_t *chunks;       /* the epoch's order of chunks */
    /* CHUNKED_WINDOW: the chunks of the current window, read in the order
     * of `chunks` into win; slot[j] is where the j-th one starts (rows). */
    float *win;
    size_t *slot;
    size_t win_next;  /* index into chunks of the next window's first */
    size_t win_count; /* chunks in the current window */
    size_t win_end;   /* position in the order where the window ends */
    uint64_t seed, first_epoch, epochs, every;
    uint64_t steps_total;
    dfsae_progress_fn cb;
    void *user;
    dfsae_converge converge;
} run;

/* Validates this rank's arguments before the model or optimizer is
 * touched (with a comm, a data-parallel rank may hold no rows). */
static int check_local(dfsae_model *m, dfsae_optimizer *opt,
                       const dfsae_source *src)
{
    int split = dfsae__dist_is(m->dist, DFSAE_DIST_DATA);
    if (opt == NULL || src == NULL)
        return dfsae__fail(m->err, DFSAE_ERR_NULL_ARG, "train: %s is NULL",
                           opt == NULL ? "opt" : "the source");
    if (opt->n != m->n_params)
        return dfsae__fail(m->err, DFSAE_ERR_SIZE_MISMATCH,
                           "train: the optimizer is for %zu parameters, the "
                           "model has %zu",
                           opt->n, m->n_params);
    const dfsae__rows_rule rule = {
        .fn = "train", .what = "data set", .d = m->d, .may_be_empty = split};
    return dfsae__rows_check(src, &rule, m->err);
}

/* The plan over all n rows of the data set (every rank's, with a comm):
 * the same on every rank, as their configs are. */
static int pick_mode(const dfsae_train_config *cfg, const dfsae_source *src)
{
    uint64_t shuffle = dfsae__train_u64(cfg, DFSAE_TRAIN_SHUFFLE);
    if (shuffle == 0)
        return IN_ORDER;
    if (src->sequential)
        return CHUNKED_WINDOW;
    return shuffle == 1 ? PERMUTED : CHUNKED;
}

static int check(dfsae_model *m, dfsae_optimizer *opt, dfsae_source *src,
                 size_t n, const dfsae_train_config *cfg, run *r)
{
    if (n == 0)
        return dfsae__fail(m->err, DFSAE_ERR_INVALID_ARG,
                           "train: the data set is empty (n = 0)");
    int variance = dfsae__loss_needs_stats(m->opt.lambda);
    size_t batch = dfsae__train_batch_size(cfg);
    char names[DFSAE_STATS_NAMES_LEN];
    dfsae__loss_stats_names(names);
    if (variance && (n < 2 || batch < 2))
        return dfsae__fail(m->err, DFSAE_ERR_BATCH_TOO_SMALL,
                           "train: %s need batches of at least 2 rows (n = "
                           "%zu, batch size = %zu)",
                           names, n, batch);
    const dfsae__run_state *rs = &m->run;
    if (rs->rows > 0 && rs->rows >= n)
        return dfsae__fail(m->err, DFSAE_ERR_INVALID_ARG,
                           "train: the model stopped %llu rows into epoch "
                           "%llu, but the data set has %zu rows "
                           "(dfsae_model_set_run_state starts the epoch "
                           "over)",
                           (unsigned long long)rs->rows,
                           (unsigned long long)rs->epochs, n);
    if (variance && rs->rows > 0 && n - rs->rows < 2)
        return dfsae__fail(m->err, DFSAE_ERR_BATCH_TOO_SMALL,
                           "train: the model stopped with 1 row of epoch "
                           "%llu left; %s need 2",
                           (unsigned long long)rs->epochs, names);
    dfsae__batch_plan(&r->plan, n, 0, batch, variance);
    dfsae__batch_plan(&r->first, n, (size_t)rs->rows, batch, variance);
    if (dfsae__batch_plan_max_rows(&r->plan) > (size_t)INT_MAX)
        return dfsae__fail(m->err, DFSAE_ERR_SIZE_OVERFLOW,
                           "train: a batch of %zu rows overflows",
                           dfsae__batch_plan_max_rows(&r->plan));
    r->epochs = dfsae__train_u64(cfg, DFSAE_TRAIN_EPOCHS);
    if (r->epochs > UINT64_MAX - rs->epochs ||
        r->epochs - 1 > (UINT64_MAX - r->first.steps) / r->plan.steps)
        return dfsae__fail(m->err, DFSAE_ERR_SIZE_OVERFLOW,
                           "train: the epoch or step count overflows");
    r->steps_total = r->first.steps + (r->epochs - 1) * r->plan.steps;
    r->m = m;
    r->opt = opt;
    r->src = src;
    r->mode = pick_mode(cfg, src);
    if (r->split && r->mode == CHUNKED_WINDOW)
        return dfsae__fail(m->err, DFSAE_ERR_INVALID_ARG,
                           "train: a sequential source cannot serve a rank's "
                           "rows of shuffled batches; give each rank a "
                           "random-access source of its rows");
    /* Clamped to the data, so that chunk x window cannot overflow. */
    uint64_t chunk = dfsae__train_u64(cfg, DFSAE_TRAIN_SHUFFLE_CHUNK);
    r->chunk = chunk < n ? (size_t)chunk : n;
    const size_t chunks = dfsae__chunk_count(n, r->chunk);
    uint64_t window = dfsae__train_u64(cfg, DFSAE_TRAIN_SHUFFLE_WINDOW);
    r->window = window < chunks ? (size_t)window : chunks;
    r->seed = rs->seed;
    r->first_epoch = rs->epochs;
    r->every = dfsae__train_u64(cfg, DFSAE_TRAIN_REPORT_EVERY);
    r->policy = dfsae__train_fetch(cfg);
    dfsae__converge_init(&r->converge, cfg);
    return DFSAE_OK;
}

static int setup(run *r)
{
    dfsae_model *m = r->m;
    const dfsae_allocator *a = &m->alloc;
    size_t rows = dfsae__batch_plan_max_rows(&r->plan);
    int fail = 0;
    r->idx = dfsae__alloc_array(a, r->plan.n, sizeof *r->idx);
    size_t floats = 0;
    fail |= r->idx == NULL || !dfsae__mul_size(rows, m->d, &floats);
    /* A float32 array read in order is used in place: no copy. The
     * helper not with a comm: the host's read callback then stays on the
     * thread that makes the MPI calls. Ahead only for a fetch worth it
     * (prefetch.h), unless the config says which way. */
    const int copies =
        r->mode != IN_ORDER || r->split || !dfsae__source_in_place(r->src);
    const int helps = copies && m->dist == NULL && r->plan.steps > 1;
    const int ahead = helps && (r->policy == DFSAE_FETCH_AHEAD ||
                                (r->policy == DFSAE_FETCH_AUTO &&
                                 dfsae__prefetch_worth(r->src, floats)));
    /* Fetched between steps, a batch's rows are read on both threads when
     * the source may be: not a window's (its chunks are read in turn), nor
     * a sequential callback's (each of its runs starts where the last one
     * ended, one call after the other). */
    const int may_split = helps && r->mode != CHUNKED_WINDOW && !r->split &&
                          !r->src->sequential &&
                          dfsae__source_reads_in_parallel(r->src);
    /* Consulted only while the next batch may be fetched ahead. */
    dfsae__prefetch_probe_init(&r->probe, r->policy);
    for (int i = 0; i < 2; ++i)
        r->batches[i].r = r;
    for (int i = 0; !fail && copies && i < 1 + ahead; ++i) {
        r->batches[i].buf = dfsae__alloc_array(a, floats, sizeof(float));
        fail |= r->batches[i].buf == NULL;
    }
    if (!fail && r->split) {
        r->local = dfsae__alloc_array(a, rows, sizeof *r->local);
        fail |= r->local == NULL;
    }
    if (!fail && r->mode != IN_ORDER && r->mode != PERMUTED) {
        r->chunks = dfsae__alloc_array(
            a, dfsae__chunk_count(r->plan.n, r->chunk), sizeof *r->chunks);
        fail |= r->chunks == NULL;
    }
    if (!fail && r->mode == CHUNKED_WINDOW) {
        /* chunk <= n and window <= chunks, so this is <= n x D. */
        size_t win_rows = r->chunk * r->window;
        win_rows = win_rows < r->plan.n ? win_rows : r->plan.n;
        r->win = dfsae__alloc_array(a, win_rows * m->d, sizeof(float));
        r->slot = dfsae__alloc_array(a, r->window, sizeof *r->slot);
        fail |= r->win == NULL || r->slot == NULL;
    }
    if (fail)
        return dfsae__fail(m->err, DFSAE_ERR_NO_MEMORY,
                           "train: cannot allocate the batch buffers");
    /* Without a thread the batches are fetched inline, to the same bits.
     * Only told to fetch between steps does a source not worth fetching
     * ahead (a float32 array's) get a thread to split its batches with. */
    if ((ahead || (may_split && r->policy == DFSAE_FETCH_BETWEEN)) &&
        dfsae__helper_start(&r->helper, a) != DFSAE_OK) {
        dfsae__free(a, r->batches[1].buf);
        r->batches[1].buf = NULL;
    }
    if (r->helper != NULL && may_split) {
        r->half.src = *r->src;
        r->half.src.owned = 0;
        if (r->src->staging != NULL) {
            r->half_stage = dfsae__alloc_array(
                a, (size_t)DFSAE__SOURCE_PIECE * m->d, sizeof(uint16_t));
            r->half.src.staging = r->half_stage;
        }
        r->splits = r->src->staging == NULL || r->half_stage != NULL;
    }
    /* Sized for the largest batch now, so that no step allocates. */
    return dfsae_model_reserve(m, rows);
}

static void release(run *r)
{
    const dfsae_allocator *a = &r->m->alloc;
    /* First: a fetch may still be running into the buffers. */
    dfsae__helper_stop(r->helper, a);
    dfsae__free(a, r->idx);
    dfsae__free(a, r->batches[0].buf);
    dfsae__free(a, r->batches[1].buf);
    dfsae__free(a, r->local);
    dfsae__free(a, r->chunks);
    dfsae__free(a, r->win);
    dfsae__free(a, r->slot);
    dfsae__free(a, r->half_stage);
}

static void order_epoch(run *r, uint64_t epoch)
{
    if (r->mode == IN_ORDER || r->mode == PERMUTED)
        dfsae__epoch_order(r->idx, r->plan.n, r->mode == PERMUTED, r->seed,
                           epoch);
    else
        dfsae__epoch_order_chunked(r->idx, r->chunks, r->plan.n, r->chunk,
                                   r->window, r->seed, epoch);
    r->win_next = 0;
    r->win_count = 0;
    r->win_end = 0;
}

/* Moves to the next window; reads its chunks, each a run of consecutive
 * rows, unless the window ends before position `need` (an epoch continued
 * mid-way skips what it already trained on). */
static int next_window(run *r, size_t need, char *err)
{
    const size_t n = r->plan.n, d = r->m->d;
    const size_t total = dfsae__chunk_count(n, r->chunk);
    size_t filled = 0;
    r->win_count = 0;
    for (size_t c = r->win_next; c < total && c < r->win_next + r->window;
         ++c) {
        const size_t first = r->chunks[c] * r->chunk;
        r->slot[r->win_count++] = filled;
        filled += n - first < r->chunk ? n - first : r->chunk;
    }
    r->win_next += r->win_count;
    r->win_end += filled;
    if (r->win_end <= need)
        return DFSAE_OK;
    for (size_t j = 0; j < r->win_count; ++j) {
        const size_t c = r->chunks[r->win_next - r->win_count + j];
        const size_t first = c * r->chunk;
        const size_t len = n - first < r->chunk ? n - first : r->chunk;
        /* Unchecked: a window's rows belong to later batches too, and a
         * bad row stops the run at the step that trains on it (fetch). */
        int st = dfsae__source_range(r->src, first, len,
                                     r->win + r->slot[j] * d, NULL, NULL, err);
        if (st != DFSAE_OK)
            return st;
    }
    return DFSAE_OK;
}

/* Where row `row` of the current window is in win (rows). */
static size_t window_slot(const run *r, size_t row)
{
    const size_t c = row / r->chunk, base = r->win_next - r->win_count;
    size_t j = 0;
    while (j + 1 < r->win_count && r->chunks[base + j] != c)
        ++j;
    return r->slot[j] + row % r->chunk;
}

/* The rows at positions [first, first + rows) of the epoch's order into
 * *Xb (buf, or the array in place). Data-parallel: only this rank's rows
 * of the global batch, in the batch's order (*local of them; r->local
 * lists their source rows). */
static int gather(run *r, float *buf, size_t first, size_t rows,
                  const float **Xb, size_t *local, char *err)
{
    const size_t d = r->m->d;
    *local = rows;
    if (r->split) {
        size_t count = 0;
        for (size_t i = 0; i < rows; ++i) {
            size_t g = r->idx[first + i];
            if (g >= r->row0 && g - r->row0 < r->n_local)
                r->local[count++] = g - r->row0;
        }
        *local = count;
        *Xb = buf;
        return dfsae__source_gather(r->src, r->local, count, buf, NULL, "",
                                    err);
    }
    if (r->mode != CHUNKED_WINDOW)
        return dfsae__source_gather(r->src, r->idx + first, rows, buf, Xb, "",
                                    err);
    for (size_t i = 0; i < rows; ++i) {
        while (first + i >= r->win_end) {
            int st = next_window(r, first + i, err);
            if (st != DFSAE_OK)
                return st;
        }
        memcpy(buf + i * d, r->win + window_slot(r, r->idx[first + i]) * d,
               d * sizeof(float));
    }
    *Xb = buf;
    return DFSAE_OK;
}

/* Gathers the slot's batch; a callback's rows are checked as they arrive
 * (arrays were up front), a window's as they are copied into the batch.
 * Runs on the helper or inline, never both at once: batches are fetched
 * one after the other, in the order of the steps. */
static void fetch(void *arg)
{
    fetched *f = arg;
    run *r = f->r;
    f->st = gather(r, f->buf, f->first, f->rows, &f->Xb, &f->local, f->err);
    if (f->st != DFSAE_OK || r->mode != CHUNKED_WINDOW)
        return;
    f->st = dfsae__rows_check_read(r->src, f->Xb, f->local, r->idx + f->first,
                                   0, "", f->err);
}

static void fetch_half(void *arg)
{
    half_fetch *h = arg;
    h->st = dfsae__source_gather(&h->src, h->rows, h->count, h->out, NULL, "",
                                 h->err);
}

/* fetch, inline, with the batch's second half read on the helper at the
 * same time (the step is not running: the helper takes a core that the
 * BLAS's threads only spin on). Reported as one gather would: a failed
 * read first, the first half's before the second's, then the first
 * non-finite row. */
static void fetch_split(fetched *f)
{
    run *r = f->r;
    const size_t d = r->m->d, first_half = f->rows / 2;
    const size_t *rows = r->idx + f->first;
    r->half.rows = rows + first_half;
    r->half.count = f->rows - first_half;
    r->half.out = f->buf + first_half * d;
    dfsae__helper_post(r->helper, fetch_half, &r->half);
    f->st = dfsae__source_gather(r->src, rows, first_half, f->buf, NULL, "",
                                 f->err);
    f->Xb = f->buf;
    f->local = f->rows;
    dfsae__helper_wait(r->helper);
    const int take_second = r->half.st != DFSAE_OK &&
                            (f->st == DFSAE_OK || (f->st != DFSAE_ERR_IO &&
                                                   r->half.st == DFSAE_ERR_IO));
    if (take_second) {
        f->st = r->half.st;
        memcpy(f->err, r->half.err, sizeof f->err);
    }
}

/* Whether the next batch may be fetched ahead: it has a slot of its own. */
static int may_fetch_ahead(const run *r)
{
    return r->batches[1].buf != NULL;
}

/* Step s's slot: they alternate only when the next is fetched ahead. */
static fetched *batch_of(run *r, uint64_t s)
{
    return &r->batches[may_fetch_ahead(r) ? s % 2 : 0];
}

/* Fetches step s's batch into its slot: on the helper when `behind` (the
 * step's batch is then ready when the step before has trained), else now. */
static fetched *start_fetch(run *r, const dfsae_batch_plan *plan, uint64_t s,
                            int behind)
{
    fetched *f = batch_of(r, s);
    dfsae__batch_plan_step(plan, s, &f->first, &f->rows);
    if (behind)
        dfsae__helper_post(r->helper, fetch, f);
    else if (r->splits && f->rows > 1)
        fetch_split(f);
    else
        fetch(f);
    return f;
}

/* Prefixes the detail message of a failed step with where it happened. */
static int step_failed(dfsae_model *m, int st, const char *detail,
                       uint64_t epoch, uint64_t step)
{
    char copy[DFSAE_ERR_LEN];
    memcpy(copy, detail, sizeof copy);
    copy[sizeof copy - 1] = '\0';
    return dfsae__fail(m->err, st, "train: epoch %llu, step %llu: %s",
                       (unsigned long long)epoch, (unsigned long long)step,
                       copy);
}

/* Records a completed step in the run state, so that whenever training
 * stops the model says where. */
static void advance(dfsae_model *m, size_t rows, int epoch_done)
{
    m->run.rows += rows;
    if (epoch_done) {
        m->run.epochs++;
        m->run.rows = 0;
    }
}

/* Calls the progress callback, if any: 1 to cancel. With a comm every rank
 * comes here at the same points, callback or not (often only rank 0 has
 * one), and they agree, so that a cancel on one stops all. */
static int report(run *r, const dfsae_progress *p)
{
    int stop = r->cb != NULL && r->cb(p, r->user) != 0;
    if (r->m->dist == NULL)
        return stop;
    return dfsae__dist_agree(r->m->dist, r->m->err, "train",
                             stop ? DFSAE_ERR_CANCELLED : DFSAE_OK) != DFSAE_OK;
}

static int epochs(run *r)
{
    const int reports = r->cb != NULL || r->m->dist != NULL;
    dfsae_model *m = r->m;
    dfsae_progress p;
    memset(&p, 0, sizeof p);
    p.steps_per_epoch = r->plan.steps;
    p.steps_total = r->steps_total;
    const double t0 = dfsae__now();
    for (uint64_t e = 0; e < r->epochs; ++e) {
        const uint64_t epoch = r->first_epoch + e;
        const dfsae_batch_plan *plan = e == 0 ? &r->first : &r->plan;
        /* A continued epoch reports its steps as the whole epoch counts
         * them (exactly so when the batch size is unchanged). */
        const uint64_t step0 = plan->start / plan->batch;
        const double te = dfsae__now();
        double sum = 0.0, sum_terms[DFSAE_TERM_COUNT] = {0};
        size_t seen = 0;
        /* Epochs are fetched within themselves: the next epoch's order
         * replaces idx, which the last step's report still hands out. */
        order_epoch(r, epoch);
        int posted = 0; /* step s's batch is on the helper */
        uint64_t ahead_steps = 0;
        double ready = 0.0;
        for (uint64_t s = 0; s < plan->steps; ++s) {
            fetched *f;
            const int was_ahead = posted;
            ahead_steps += (uint64_t)was_ahead;
            if (!posted) {
                f = start_fetch(r, plan, s, 0);
            } else {
                f = batch_of(r, s);
                dfsae__helper_wait(r->helper);
            }
            if (may_fetch_ahead(r)) {
                /* From the batch before ready to this one ready: the step
                 * and this batch's fetch, the way the probe chose. */
                const double now = dfsae__now();
                if (s > 0)
                    dfsae__prefetch_took(&r->probe, now - ready);
                ready = now;
            }
            const size_t first = f->first, rows = f->rows;
            int st = f->st;
            if (st != DFSAE_OK)
                memcpy(m->err, f->err, sizeof f->err);
            /* A rank's read may fail alone, as a step may. */
            if (m->dist != NULL)
                st = dfsae__dist_agree(m->dist, m->err, "read", st);
            if (st != DFSAE_OK)
                return step_failed(m, st, m->err, epoch, step0 + s);
            /* Else the next batch is fetched inline when its step comes. */
            posted = may_fetch_ahead(r) && s + 1 < plan->steps &&
                     dfsae__prefetch_next(&r->probe);
            if (posted)
                start_fetch(r, plan, s + 1, 1);
            double loss, terms[DFSAE_TERM_COUNT];
            st = dfsae_train_step(m, r->opt, f->Xb, f->local, &loss, terms,
                                  DFSAE_TERM_COUNT);
            if (st != DFSAE_OK)
                return step_failed(m, st, m->err, epoch, step0 + s);
            advance(m, rows, s + 1 == plan->steps);
            seen += rows;
            sum += loss;
            for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
                sum_terms[t] += terms[t];
            p.steps_done++;
            if (!reports || r->every == 0 || p.steps_done % r->every)
                continue;
            double now = dfsae__now();
            p.event = DFSAE_EVENT_STEP;
            p.epoch = epoch;
            p.step = step0 + s;
            p.loss = loss;
            memcpy(p.terms, terms, sizeof terms);
            p.rows = rows;
            p.indices = r->idx + first;
            p.fetched_ahead = (uint64_t)was_ahead;
            p.samples_per_sec = now > te ? (double)seen / (now - te) : 0.0;
            p.elapsed = now - t0;
            if (report(r, &p))
                return dfsae__fail(m->err, DFSAE_ERR_CANCELLED,
                                   "train: cancelled after epoch %llu, step "
                                   "%llu",
                                   (unsigned long long)epoch,
                                   (unsigned long long)(step0 + s));
        }
        const double steps = (double)plan->steps;
        p.converged = dfsae__converge_update(&r->converge, sum / steps);
        if (!reports) {
            if (p.converged)
                break;
            continue;
        }
        double now = dfsae__now();
        p.event = DFSAE_EVENT_EPOCH;
        p.epoch = epoch;
        p.step = r->plan.steps;
        p.loss = sum / steps;
        for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
            p.terms[t] = sum_terms[t] / steps;
        p.rows = seen;
        p.indices = NULL;
        p.fetched_ahead = ahead_steps;
        p.samples_per_sec = now > te ? (double)seen / (now - te) : 0.0;
        p.elapsed = now - t0;
        if (report(r, &p))
            return dfsae__fail(m->err, DFSAE_ERR_CANCELLED,
                               "train: cancelled after epoch %llu",
                               (unsigned long long)epoch);
        if (p.converged)
            break;
    }
    return DFSAE_OK;
}

int dfsae_model_train_source(dfsae_model *model, dfsae_optimizer *opt,
                             dfsae_source *source,
                             const dfsae_train_config *config,
                             dfsae_progress_fn progress, void *user)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    run r;
    memset(&r, 0, sizeof r);
    dfsae_dist *dist = model->dist;
    int st = check_local(model, opt, source);
    size_t n = source != NULL ? source->n : 0;
    /* With a comm: every rank's verdict, and the rows they hold. */
    st = dfsae__dist_begin(dist, model->err, "train", st, n);
    if (st != DFSAE_OK)
        return st;
    r.n_local = n;
    r.split = dfsae__dist_is(dist, DFSAE_DIST_DATA);
    if (r.split) {
        for (int q = 0; q < dist->comm.rank; ++q)
            r.row0 += (size_t)dist->counts[q];
        n = dist->n_batch;
    }
    st = check(model, opt, source, n, config, &r);
    if (st != DFSAE_OK)
        return st;
    r.cb = progress;
    r.user = user;
    st = setup(&r);
    st = dfsae__dist_agree(dist, model->err, "train", st);
    if (st == DFSAE_OK)
        st = epochs(&r);
    release(&r);
    return st;
}

int dfsae_model_train(dfsae_model *model, dfsae_optimizer *opt, const float *X,
                      size_t n, const dfsae_train_config *config,
                      dfsae_progress_fn progress, void *user)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    /* A data-parallel rank may hold no rows. */
    if (X == NULL && !(dfsae__dist_is(model->dist, DFSAE_DIST_DATA) && n == 0))
        return dfsae__fail(model->err, DFSAE_ERR_NULL_ARG, "train: X is NULL");
    dfsae_source view;
    dfsae__source_view(&view, X, n, model->d);
    return dfsae_model_train_source(model, opt, &view, config, progress, user);
}
