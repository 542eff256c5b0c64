// Every lab scenario, in the order `sultry lab` runs them.

import type { Scenario } from '../scenario.js'
import { torSimScenario } from '../tor-sim/sim.js'
import { webTunnelScenario } from '../webtunnel/sim.js'
import { echo } from './echo.js'
import { seedBug } from './seed-bug.js'
import { tlsHandshake } from './tls-handshake.js'

export const scenarios: Scenario[] = [echo, tlsHandshake, seedBug, webTunnelScenario, torSimScenario]
