# lap and dn are spatial: dt is fine, lap over time is not what the user means.
time t in [0, 1]
field u
lap(u) = 1 on interior
