#!/usr/bin/env Rscript
# Reference values for safety pooling (rare events, zero-event trials) and hazard-ratio pooling,
# computed with R metafor.
#
# Run from the repository root:  Rscript tests/reference/certainty_safety_reference.R
# Writes tests/reference/certainty_safety_reference.json (committed; the tests need no R).
# Each case records the exact metafor call(s), the input data and the expected values.
# Data are synthetic (made up for these tests), never evidence.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

cases <- list()

summ <- function(fit) {
  k <- fit$k
  out <- list(
    k = k, estimate = as.numeric(fit$b), se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub,
    z = fit$zval, p = fit$pval, q = fit$QE, q_p = fit$QEp, tau2 = if (is.null(fit$tau2)) 0 else fit$tau2
  )
  out
}

add_case <- function(name, data, calls, expected) {
  cases[[name]] <<- list(calls = calls, data = as.list(data), expected = expected)
}

# --- rare adverse events: zero-event and double-zero trials --------------------------------
ae <- data.frame(
  study = c("A", "B", "C", "D", "E", "F", "G", "H"),
  events1 = c(0, 1, 0, 2, 0, 3, 1, 0), n1 = c(20, 35, 18, 40, 25, 60, 30, 22),
  events2 = c(0, 0, 1, 1, 0, 2, 0, 1), n2 = c(20, 30, 20, 38, 24, 55, 30, 21)
)
ai <- ae$events1; bi <- ae$n1 - ae$events1; ci <- ae$events2; di <- ae$n2 - ae$events2

# metafor defaults: MH sums over the raw counts (double zeros add nothing to RR's sums and are
# kept in RD's); study yi/vi with 0.5 added to studies with a zero cell (drop00 for RR).
fit <- rma.mh(ai = ai, bi = bi, ci = ci, di = di, measure = "RR")
add_case("ae_mh_rr_raw", ae,
  c('rma.mh(ai, bi, ci, di, measure="RR")  # defaults: add=1/2, to="only0", drop00=TRUE for yi'),
  summ(fit))
fit <- rma.mh(ai = ai, bi = bi, ci = ci, di = di, measure = "RD")
add_case("ae_mh_rd_raw", ae,
  c('rma.mh(ai, bi, ci, di, measure="RD")  # defaults; double-zero trials kept'),
  summ(fit))
fit <- rma.mh(ai = ai, bi = bi, ci = ci, di = di, measure = "OR")
add_case("ae_mh_or_raw", ae, c('rma.mh(ai, bi, ci, di, measure="OR")'), summ(fit))

# RevMan 5 convention: 0.5 added to every cell of a trial with a zero cell, the corrected counts
# used in the MH sums too; double-zero trials dropped for RR, kept (corrected) for RD.
zero <- ai == 0 | bi == 0 | ci == 0 | di == 0
dz <- ai == 0 & ci == 0
inc <- ifelse(zero, 0.5, 0)
keep <- !dz
fit <- rma.mh(ai = (ai + inc)[keep], bi = (bi + inc)[keep], ci = (ci + inc)[keep],
              di = (di + inc)[keep], measure = "RR", add = 0, to = "none", drop00 = FALSE)
add_case("ae_mh_rr_revman", ae,
  c('inc <- 0.5 where a trial has a zero cell; double-zero trials dropped',
    'rma.mh(ai+inc, bi+inc, ci+inc, di+inc, measure="RR", add=0, to="none", drop00=FALSE)'),
  summ(fit))
fit <- rma.mh(ai = ai + inc, bi = bi + inc, ci = ci + inc, di = di + inc, measure = "RD",
              add = 0, to = "none", drop00 = FALSE)
add_case("ae_mh_rd_revman", ae,
  c('inc <- 0.5 where a trial has a zero cell; double-zero trials kept',
    'rma.mh(ai+inc, bi+inc, ci+inc, di+inc, measure="RD", add=0, to="none", drop00=FALSE)'),
  summ(fit))

# Peto one-step odds ratio (double zeros carry no information: O - E = V = 0).
fit <- rma.peto(ai = ai, bi = bi, ci = ci, di = di)
add_case("ae_peto", ae, c('rma.peto(ai, bi, ci, di)'), summ(fit))

# Multi-arm trial: two MSC arms (2/15, 1/16) against one control (0/14) are one comparison
# (events and totals added, Cochrane Handbook 6.5.2.10), never two that count the control twice.
ma <- data.frame(study = c("P", "Q", "R"), events1 = c(3, 2, 1), n1 = c(31, 25, 40),
                 events2 = c(0, 1, 2), n2 = c(14, 24, 41))
fit <- rma.mh(ai = ma$events1, bi = ma$n1 - ma$events1, ci = ma$events2, di = ma$n2 - ma$events2,
              measure = "RR")
add_case("ae_multiarm_combined_mh_rr", ma,
  c('P: MSC arms 2/15 + 1/16 combined to 3/31 against control 0/14',
    'rma.mh(ai, bi, ci, di, measure="RR")'),
  summ(fit))

# RD variance of RevMan 5 (Deeks & Higgins 2010; Greenland & Robins 1985):
# var = sum((a b n2^3 + c d n1^3)/(n1 n2 N^2)) / (sum(n1 n2/N))^2. metafor's rma.mh uses the
# Sato, Greenland & Robins (1989) variance instead, so the RD standard error is computed here.
gr_rd_se <- function(a, b, c, d) {
  n1 <- a + b; n2 <- c + d; N <- n1 + n2
  sqrt(sum((a * b * n2^3 + c * d * n1^3) / (n1 * n2 * N^2))) / sum(n1 * n2 / N)
}
cases$ae_mh_rd_raw$expected$se_greenland_robins <- gr_rd_se(ai, bi, ci, di)
cases$ae_mh_rd_raw$calls <- c(cases$ae_mh_rd_raw$calls,
  "se_greenland_robins: sqrt(sum((a b n2^3 + c d n1^3)/(n1 n2 N^2))) / sum(n1 n2/N)")
cases$ae_mh_rd_revman$expected$se_greenland_robins <-
  gr_rd_se(ai + inc, bi + inc, ci + inc, di + inc)
cases$ae_mh_rd_revman$calls <- c(cases$ae_mh_rd_revman$calls,
  "se_greenland_robins: the same formula over the corrected counts")

# --- survival: generic inverse variance of log hazard ratios --------------------------------
hr <- data.frame(
  study = c("S1", "S2", "S3", "S4", "S5", "S6"),
  hr = c(0.47, 0.80, 0.65, 1.10, 0.55, 0.90),
  ci_low = c(0.29, 0.52, 0.40, 0.70, 0.30, 0.60),
  ci_high = c(0.76, 1.23, 1.06, 1.73, 1.01, 1.35)
)
yi <- log(hr$hr)
sei <- (log(hr$ci_high) - log(hr$ci_low)) / (2 * qnorm(0.975))
fit <- rma(yi = yi, sei = sei, method = "DL")
add_case("hr_giv_dl", hr,
  c('yi <- log(hr); sei <- (log(ci_high) - log(ci_low)) / (2 * qnorm(0.975))',
    'rma(yi, sei=sei, method="DL")'),
  c(summ(fit), list(yi = yi, sei = sei,
    pi_low = as.numeric(fit$b) - qt(0.975, fit$k - 2) * sqrt(fit$tau2 + fit$se^2),
    pi_high = as.numeric(fit$b) + qt(0.975, fit$k - 2) * sqrt(fit$tau2 + fit$se^2))))
fit <- rma(yi = yi, sei = sei, method = "FE")
add_case("hr_giv_fe", hr, c('rma(yi, sei=sei, method="FE")'), summ(fit))

out <- list(
  generated_by = "tests/reference/certainty_safety_reference.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  cases = cases
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/certainty_safety_reference.json")
