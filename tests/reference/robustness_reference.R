#!/usr/bin/env Rscript
# Reference values for mscreview's robustness statistics (issue 12): sequential monitoring
# (rpact), influence diagnostics, trim-and-fill, Egger, meta-regression, leave-one-out and
# cumulative meta-analysis (metafor).
#
# Run from the repository root:  Rscript tests/reference/robustness_reference.R
# Writes tests/reference/robustness_reference.json (committed; the tests need no R).
# Each case records the exact call(s), the input data and the expected values; the tests state
# their tolerance.

suppressPackageStartupMessages({
  library(metafor)
  library(rpact)
  library(jsonlite)
})

cases <- list()
add_case <- function(name, calls, data, expected) {
  cases[[name]] <<- list(calls = calls, data = data, expected = expected)
}

# --- sequential monitoring: Lan-DeMets O'Brien-Fleming boundaries (rpact) -----------------
# (rpact computes the spending as 2 - 2 pnorm(.), which loses relative precision when a look
# spends less than about 1e-8; the first look at t = 0.05 is such a case: rpact returns NA.)
for (rates in list(c(0.2, 0.45, 0.7, 1), c(0.15, 0.3, 0.62), c(0.05, 0.5, 0.9),
                   c(0.33, 0.67, 1), c(0.25, 0.5, 0.75, 0.9, 1))) {
  tag <- paste(round(100 * rates), collapse = "_")
  d <- getDesignGroupSequential(typeOfDesign = "asOF", informationRates = rates,
                                alpha = 0.025, sided = 1)
  add_case(paste0("obf_one_sided_", tag),
    sprintf('getDesignGroupSequential(typeOfDesign="asOF", informationRates=c(%s), alpha=0.025, sided=1)',
            paste(rates, collapse = ", ")),
    list(t = rates, alpha = 0.025, sided = 1),
    list(bounds = d$criticalValues, spent = d$alphaSpent))
  # Two-sided with the total spending alpha(t) = 2 - 2 Phi(z_{1-alpha/2}/sqrt(t)) (Lan & DeMets
  # 1983, as the TSA program): rpact's asOF with sided = 2 spends alpha/2 per side instead, so
  # the spending is given as a user function.
  spend <- pmin(2 * pnorm(-qnorm(1 - 0.05 / 2) / sqrt(rates)), 0.05)
  if (rates[length(rates)] < 1) spend <- c(spend, 0.05)
  full <- if (rates[length(rates)] < 1) c(rates, 1) else rates
  d <- getDesignGroupSequential(typeOfDesign = "asUser", informationRates = full,
                                userAlphaSpending = spend, alpha = 0.05, sided = 2)
  add_case(paste0("obf_two_sided_", tag),
    c('spend <- pmin(2 * pnorm(-qnorm(0.975) / sqrt(t)), 0.05)  # t ending at 1',
      sprintf('getDesignGroupSequential(typeOfDesign="asUser", informationRates=c(%s), userAlphaSpending=spend, alpha=0.05, sided=2)',
              paste(full, collapse = ", "))),
    list(t = rates, alpha = 0.05, sided = 2),
    list(bounds = d$criticalValues[seq_along(rates)], spent = spend[seq_along(rates)]))
}

# --- required information size, continuous: total n of a fixed design (rpact) ---------------
for (p in list(c(2, 5, 0.1), c(0.5, 1, 0.2), c(3.5, 12, 0.1))) {
  s <- getSampleSizeMeans(getDesignGroupSequential(kMax = 1, alpha = 0.025, beta = p[3], sided = 1),
                          normalApproximation = TRUE, alternative = p[1], stDev = p[2],
                          allocationRatioPlanned = 1)
  add_case(sprintf("ris_continuous_%g_%g_%g", p[1], p[2], p[3]),
    sprintf('getSampleSizeMeans(getDesignGroupSequential(kMax=1, alpha=0.025, beta=%g, sided=1), normalApproximation=TRUE, alternative=%g, stDev=%g, allocationRatioPlanned=1)$nFixed  # = two-sided alpha 0.05',
            p[3], p[1], p[2]),
    list(delta = p[1], sd = p[2], alpha = 0.05, beta = p[3]),
    list(ris = s$nFixed))
}

# --- influence diagnostics, trim-and-fill, Egger, meta-regression (metafor) ------------------
tight <- list(threshold = 1e-12, maxiter = 10000)
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg_data <- list(study = paste(dat.bcg$author, dat.bcg$year), year = dat.bcg$year,
                 yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi), ablat = dat.bcg$ablat,
                 alloc = as.character(dat.bcg$alloc))
hack <- dat.hackshaw1998
hack_data <- list(study = paste(hack$author, hack$year), year = hack$year,
                  yi = as.numeric(hack$yi), vi = as.numeric(hack$vi))

infl <- function(fit) {
  inf <- influence(fit)
  list(rstudent = inf$inf$rstudent, dffits = inf$inf$dffits, cook_d = inf$inf$cook.d,
       cov_r = inf$inf$cov.r, tau2_del = inf$inf$tau2.del, qe_del = inf$inf$QE.del,
       hat = inf$inf$hat, weight = inf$inf$weight, dfbetas = inf$dfbs$intrcpt,
       influential = as.logical(inf$is.infl))
}
add_case("influence_bcg_dl", 'influence(rma(yi, vi, data=escalc("RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg), method="DL"))',
         bcg_data, c(infl(rma(yi, vi, data = bcg, method = "DL")), list(model = "random", tau2_method = "DL")))
add_case("influence_bcg_reml", 'influence(rma(yi, vi, data=<bcg RR>, method="REML", control=list(threshold=1e-12)))',
         bcg_data, c(infl(rma(yi, vi, data = bcg, method = "REML", control = tight)),
                     list(model = "random", tau2_method = "REML")))
add_case("influence_hackshaw_fe", 'influence(rma(yi, vi, data=dat.hackshaw1998, method="FE"))',
         hack_data, c(infl(rma(yi, vi, data = hack, method = "FE")), list(model = "fixed", tau2_method = "DL")))

tf <- function(fit, ...) {
  t <- trimfill(fit, ...)
  list(k0 = t$k0, se_k0 = t$se.k0, side = t$side, estimate = as.numeric(t$beta), se = t$se,
       tau2 = t$tau2, filled_yi = as.numeric(t$yi[t$fill]), filled_vi = as.numeric(t$vi[t$fill]))
}
add_case("trimfill_hackshaw_fe", 'trimfill(rma(yi, vi, data=dat.hackshaw1998, method="FE"))',
         hack_data, c(tf(rma(yi, vi, data = hack, method = "FE")), list(model = "fixed", tau2_method = "DL")))
add_case("trimfill_hackshaw_dl", 'trimfill(rma(yi, vi, data=dat.hackshaw1998, method="DL"))',
         hack_data, c(tf(rma(yi, vi, data = hack, method = "DL")), list(model = "random", tau2_method = "DL")))
add_case("trimfill_bcg_dl", 'trimfill(rma(yi, vi, data=<bcg RR>, method="DL"))',
         bcg_data, c(tf(rma(yi, vi, data = bcg, method = "DL")), list(model = "random", tau2_method = "DL")))
add_case("trimfill_bcg_reml_right", 'trimfill(rma(yi, vi, data=<bcg RR>, method="REML", control=list(threshold=1e-12)), side="right", control=list(threshold=1e-12))',
         bcg_data, c(tf(rma(yi, vi, data = bcg, method = "REML", control = tight), side = "right", control = tight),
                     list(model = "random", tau2_method = "REML", side_given = "right")))
eg <- regtest(rma(yi, vi, data = hack, method = "FE"), model = "lm", predictor = "sei")
add_case("egger_hackshaw", 'regtest(rma(yi, vi, data=dat.hackshaw1998, method="FE"), model="lm", predictor="sei")',
         hack_data, list(t = eg$zval, p = eg$pval, df = eg$dfs))

mr <- function(fit, fit0) {
  list(coef = as.numeric(fit$beta), se = fit$se, stat = fit$zval, p = fit$pval,
       ci_low = fit$ci.lb, ci_high = fit$ci.ub, tau2 = fit$tau2, tau2_null = fit0$tau2,
       r2 = if (is.null(fit$R2)) NULL else fit$R2, i2 = fit$I2, qm = fit$QM,
       qm_df = fit$QMdf[!is.na(fit$QMdf)], qm_p = fit$QMp, qe = fit$QE, qe_p = fit$QEp,
       df = if (is.na(fit$ddf[1])) NULL else fit$ddf[1], vcov = unname(fit$vb))
}
for (m in c("REML", "DL")) {
  ctl <- if (m == "REML") tight else list()
  f0 <- rma(yi, vi, data = bcg, method = m, test = "knha", control = ctl)
  add_case(paste0("metareg_bcg_ablat_", tolower(m), "_knha"),
    sprintf('rma(yi, vi, mods = ~ ablat, data=<bcg RR>, method="%s", test="knha"%s)', m,
            if (m == "REML") ', control=list(threshold=1e-12)' else ""),
    c(bcg_data, list(mods = list(ablat = dat.bcg$ablat), method = m, knha = TRUE)),
    mr(rma(yi, vi, mods = ~ ablat, data = bcg, method = m, test = "knha", control = ctl), f0))
}
f0 <- rma(yi, vi, data = bcg, method = "REML", test = "knha", control = tight)
fit <- rma(yi, vi, mods = ~ factor(alloc), data = bcg, method = "REML", test = "knha", control = tight)
add_case("metareg_bcg_alloc_reml_knha",
  'rma(yi, vi, mods = ~ factor(alloc), data=<bcg RR>, method="REML", test="knha", control=list(threshold=1e-12))  # reference level: alternate',
  c(bcg_data, list(mods = list(`allocrandom` = as.numeric(dat.bcg$alloc == "random"),
                               `allocsystematic` = as.numeric(dat.bcg$alloc == "systematic")),
                   method = "REML", knha = TRUE)),
  mr(fit, f0))
f0 <- rma(yi, vi, data = bcg, method = "REML", control = tight)
fit <- rma(yi, vi, mods = ~ ablat + year, data = bcg, method = "REML", control = tight)
add_case("metareg_bcg_ablat_year_reml_z",
  'rma(yi, vi, mods = ~ ablat + year, data=<bcg RR>, method="REML", control=list(threshold=1e-12))',
  c(bcg_data, list(mods = list(ablat = dat.bcg$ablat, year = dat.bcg$year), method = "REML",
                   knha = FALSE)),
  mr(fit, f0))

out <- list(
  generated_by = "tests/reference/robustness_reference.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  rpact_version = as.character(packageVersion("rpact")),
  cases = cases
)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
      "tests/reference/robustness_reference.json")
